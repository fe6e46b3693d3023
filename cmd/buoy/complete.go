package main

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// completeFromManifest has the shells complete --project,
// --environment and --from-environment of every command of root with the
// ids the manifest (--manifest, else buoy.yaml or .wellcome_project in
// the working directory) declares. Cobra's completion command writes the
// scripts that ask for them (buoy completion bash|zsh|fish|powershell).
func completeFromManifest(root *cobra.Command) {
	complete := map[string]cobra.CompletionFunc{
		"project":          completeProjects,
		"environment":      completeEnvironments,
		"from-environment": completeEnvironments,
	}
	for _, c := range root.Commands() {
		for flag, f := range complete {
			if c.Flags().Lookup(flag) != nil {
				_ = c.RegisterFlagCompletionFunc(flag, f)
			}
		}
	}
}

// completeProjects returns the manifest's project ids, each described by
// its name when it has one.
func completeProjects(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	m := manifestOf(cmd)
	if m == nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, p := range m.Projects {
		if strings.HasPrefix(p.ID, toComplete) {
			about := p.Name
			if about == p.ID {
				about = "" // the name defaults to the id: it says nothing more
			}
			out = append(out, cobra.CompletionWithDesc(p.ID, about))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeEnvironments returns the environment ids of the project
// --project names, or of every project of the manifest, each described by
// whether it is protected and where it promotes from.
func completeEnvironments(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	m := manifestOf(cmd)
	if m == nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	projects := m.Projects
	if id, _ := cmd.Flags().GetString("project"); id != "" {
		p, err := deploy.PickProject(m, id)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		projects = []*manifest.Project{p}
	}
	var out, seen []string
	for _, p := range projects {
		for _, e := range p.Environments {
			if !strings.HasPrefix(e.ID, toComplete) || slices.Contains(seen, e.ID) {
				continue
			}
			seen = append(seen, e.ID)
			var about []string
			if e.Protected {
				about = append(about, "protected")
			}
			if e.PromotesFrom != "" {
				about = append(about, "promotes from "+e.PromotesFrom)
			}
			out = append(out, cobra.CompletionWithDesc(e.ID, strings.Join(about, ", ")))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// manifestOf is the manifest cmd's --manifest names (or the one found in
// the working directory); nil when it cannot be read.
func manifestOf(cmd *cobra.Command) *manifest.Manifest {
	path, _ := cmd.Flags().GetString("manifest")
	m, err := deploy.LoadManifest(path)
	if err != nil {
		return nil
	}
	return m
}
