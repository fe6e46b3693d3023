package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/manifest"
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
  buoy validate --manifest .wellcome_project
  buoy validate --output json | jq '.problems[] | "\(.line):\(.column) \(.message)"'`,
		Args: argsOf(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runValidate(cmd.Context(), a, cfg)
		},
	}
	cfg.common.registerManifest(cmd)
	cfg.common.registerOutput(cmd)
	cfg.common.registerVerbose(cmd)
	return cmd
}

// validation is what validate prints with --output json.
type validation struct {
	// File is the manifest read; "" when none was found.
	File   string          `json:"file"`
	Format manifest.Format `json:"format,omitempty"`
	Valid  bool            `json:"valid"`
	// Projects are the manifest's projects (the one --project names).
	Projects []projectSummary `json:"projects"`
	Warnings []diagnosticJSON `json:"warnings"`
	// Problems say why the manifest is not valid.
	Problems []diagnosticJSON `json:"problems"`
}

// projectSummary is one project as validate sums it up.
type projectSummary struct {
	ID           string `json:"id"`
	Images       int    `json:"images"`
	Services     int    `json:"services"`
	Environments int    `json:"environments"`
	// ImagesFromSSM is where a project without image repositories takes
	// its images from (/{project}/images/<label>/<image>).
	ImagesFromSSM string `json:"imagesFromSSM,omitempty"`
	// PreDeploy are the environments with pre_deploy tasks, in manifest
	// order, each with the ids of the tasks every deployment runs first.
	PreDeploy []preDeploySummary `json:"preDeploy,omitempty"`
}

type preDeploySummary struct {
	Environment string   `json:"environment"`
	Tasks       []string `json:"tasks"`
}

// diagnosticJSON is a problem or warning, where it is and what to write
// instead.
type diagnosticJSON struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
}

func runValidate(_ context.Context, a *app, cfg validateConfig) error {
	if err := cfg.common.check(); err != nil {
		return err
	}
	v, err := validate(cfg.common.manifest, cfg.common.project)
	if logger := cfg.common.logger(a); logger != nil {
		logger.Debug("manifest read", "file", v.File, "format", v.Format, "projects", len(v.Projects),
			"warnings", len(v.Warnings), "problems", len(v.Problems))
	}
	if cfg.common.output == "json" {
		if werr := writeJSON(a.stdout, v); werr != nil {
			return werr
		}
		return err
	}
	if err != nil {
		return err
	}
	printValidation(a.stdout, a.stderr, v)
	return nil
}

// validate reads the manifest at path (buoy.yaml, then .wellcome_project
// when ""), strictly, and sums it up; a problem is also the error, bad
// input.
func validate(path, project string) (validation, error) {
	v := validation{File: path, Projects: []projectSummary{}, Warnings: []diagnosticJSON{}, Problems: []diagnosticJSON{}}
	m, err := deploy.LoadManifest(path)
	if err != nil {
		var me *manifest.Error
		if errors.As(err, &me) {
			for _, d := range me.Diagnostics {
				v.Problems = append(v.Problems, diagnostic(d))
			}
		} else {
			v.Problems = append(v.Problems, diagnosticJSON{File: path, Message: err.Error()})
		}
		return v, err
	}
	v.File, v.Format = m.File, m.Format
	for _, w := range m.Warnings {
		v.Warnings = append(v.Warnings, diagnostic(w))
	}
	projects := m.Projects
	if project != "" {
		p, err := deploy.PickProject(m, project)
		if err != nil {
			v.Problems = append(v.Problems, diagnosticJSON{File: m.File, Message: err.Error()})
			return v, err
		}
		projects = []*manifest.Project{p}
	}
	for _, p := range projects {
		s := projectSummary{ID: p.ID, Images: len(p.Images), Services: len(p.Services), Environments: len(p.Environments)}
		if p.SSMImages != nil {
			s.ImagesFromSSM = p.SSMImages.Name("<label>", "<image>")
		}
		for _, env := range p.Environments {
			if len(env.PreDeploy) == 0 {
				continue
			}
			pd := preDeploySummary{Environment: env.ID}
			for _, t := range env.PreDeploy {
				pd.Tasks = append(pd.Tasks, t.ID)
			}
			s.PreDeploy = append(s.PreDeploy, pd)
		}
		v.Projects = append(v.Projects, s)
	}
	v.Valid = true
	return v, nil
}

func diagnostic(d manifest.Diagnostic) diagnosticJSON {
	return diagnosticJSON{File: d.Pos.File, Line: d.Pos.Line, Column: d.Pos.Column, Message: d.Message, Hint: d.Hint}
}

// printValidation writes the summary of a valid manifest, its warnings
// to errw.
func printValidation(w, errw io.Writer, v validation) {
	for _, d := range v.Warnings {
		fmt.Fprintf(errw, "warning: %s\n", manifest.Diagnostic{Pos: manifest.Position{File: d.File, Line: d.Line, Column: d.Column},
			Message: d.Message, Hint: d.Hint})
	}
	for _, p := range v.Projects {
		if p.ImagesFromSSM != "" {
			fmt.Fprintf(w, "%s: project %s: images from SSM (%s), %d environments\n", v.File, p.ID, p.ImagesFromSSM, p.Environments)
			continue
		}
		fmt.Fprintf(w, "%s: project %s: %d images, %d services, %d environments\n", v.File, p.ID, p.Images, p.Services, p.Environments)
		for _, pd := range p.PreDeploy {
			fmt.Fprintf(w, "%s: project %s: environment %s runs pre_deploy tasks before each deployment: %s\n",
				v.File, p.ID, pd.Environment, strings.Join(pd.Tasks, ", "))
		}
	}
	fmt.Fprintf(w, "%s is valid (%s)\n", v.File, v.Format)
}
