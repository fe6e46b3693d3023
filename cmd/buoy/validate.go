package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/buoy-deploy/buoy/pkg/deploy"
)

// validateConfig is what `buoy validate` takes.
type validateConfig struct {
	common commonFlags
}

func newValidateCommand(a *app) *cobra.Command {
	var cfg validateConfig
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check a manifest and say what is wrong, with file, line and column",
		Example: `  buoy validate
  buoy validate --manifest .wellcome_project`,
		Args: argsOf(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runValidate(cmd.Context(), a, cfg)
		},
	}
	cfg.common.register(cmd)
	return cmd
}

func runValidate(_ context.Context, a *app, cfg validateConfig) error {
	m, err := deploy.LoadManifest(cfg.common.manifest)
	if err != nil {
		return err
	}
	if cfg.common.project != "" {
		if _, err := deploy.PickProject(m, cfg.common.project); err != nil {
			return err
		}
	}
	for _, w := range m.Warnings {
		fmt.Fprintf(a.stderr, "warning: %s\n", w.String())
	}
	for _, p := range m.Projects {
		if p.SSMImages != nil {
			fmt.Fprintf(a.stdout, "%s: project %s: images from SSM (%s), %d environments\n",
				m.File, p.ID, p.SSMImages.Name("<label>", "<image>"), len(p.Environments))
			continue
		}
		fmt.Fprintf(a.stdout, "%s: project %s: %d images, %d services, %d environments\n",
			m.File, p.ID, len(p.Images), len(p.Services), len(p.Environments))
		for _, env := range p.Environments {
			if len(env.PreDeploy) == 0 {
				continue
			}
			ids := make([]string, len(env.PreDeploy))
			for i, t := range env.PreDeploy {
				ids[i] = t.ID
			}
			fmt.Fprintf(a.stdout, "%s: project %s: environment %s runs pre_deploy tasks before each deployment: %s\n",
				m.File, p.ID, env.ID, strings.Join(ids, ", "))
		}
	}
	fmt.Fprintf(a.stdout, "%s is valid (%s)\n", m.File, m.Format)
	return nil
}
