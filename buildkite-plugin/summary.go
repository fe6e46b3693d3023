package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/report"
)

// prepared reports the release prepare created, or why it did not.
func (s *step) prepared(ctx context.Context, rel *history.Release, err error) error {
	if err != nil {
		return s.fail(ctx, "buoy prepare", err)
	}
	label := s.cfg.FromLabel
	if label == "" {
		label = deploy.DefaultLabel
	}
	title := fmt.Sprintf("%s: release %s prepared from %s", rel.Project, report.ShortID(rel.ID), label)
	s.log.result(":package: "+title, false)
	var b strings.Builder
	fmt.Fprintf(&b, "### 📦 %s\n\n| Image | Repository | Digest |\n| --- | --- | --- |\n", report.Escape(title))
	ids := make([]string, 0, len(rel.Images))
	for id := range rel.Images {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		im := rel.Images[id]
		s.log.printf("  image %s: %s@%s", id, im.Repository, report.ShortDigest(im.Digest))
		fmt.Fprintf(&b, "| %s | %s | %s |\n", report.Escape(id), report.Escape(im.Repository), report.Escape(report.ShortDigest(im.Digest)))
	}
	fmt.Fprintf(&b, "\nRelease %s.\n", report.Escape(rel.ID))
	s.annotate(ctx, styleSuccess, b.String())
	s.setMetaData(ctx, [][2]string{{"release-id", rel.ID}})
	return nil
}

// status reports what each environment runs and any drift, or why it
// cannot.
func (s *step) status(ctx context.Context, rep *deploy.StatusReport, err error) error {
	if err != nil {
		return s.fail(ctx, "buoy status", err)
	}
	// Drift anywhere makes the report drifted; otherwise an environment
	// that does not agree (ECS did not say what a service runs) makes it
	// unknown: never a success.
	state := deploy.Agrees
	for _, env := range rep.Environments {
		switch {
		case env.State == deploy.Drifted || len(env.Drift) > 0:
			state = deploy.Drifted
		case env.State != deploy.Agrees && state == deploy.Agrees:
			state = deploy.Unknown
		}
	}
	icon, style := ":white_check_mark:", styleSuccess
	switch state {
	case deploy.Drifted:
		icon, style = ":warning:", styleWarning
	case deploy.Unknown:
		icon, style = ":grey_question:", styleWarning
	}
	s.log.result(fmt.Sprintf("%s %s: status %s", icon, rep.Project, state), false)

	var b strings.Builder
	fmt.Fprintf(&b, "### %s %s: what runs where\n\n", report.StateIcon(state), report.Escape(rep.Project))
	b.WriteString("| Environment | Release | State | Services | Drift | Unknown |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, env := range rep.Environments {
		release := "never deployed"
		if env.Current != nil {
			release = report.ShortID(env.Current.ReleaseID)
		}
		var services []string
		for _, svc := range env.Services {
			services = append(services, fmt.Sprintf("%s %d/%d %s", svc.Service, svc.Running, svc.Desired, svc.State))
		}
		s.log.printf("  %s: %s; release %s; services %s", env.Environment, env.State, release, strings.Join(services, ", "))
		for _, d := range env.Drift {
			s.log.printf("  ⚠️ %s: drift: %s", env.Environment, d)
		}
		for _, u := range env.Unknown {
			s.log.printf("  ❔ %s: unknown: %s", env.Environment, u)
		}
		fmt.Fprintf(&b, "| %s | %s | %s %s | %s | %s | %s |\n", report.Escape(env.Environment), report.Escape(release),
			report.StateIcon(env.State), report.Escape(string(env.State)), report.Escape(strings.Join(services, ", ")),
			report.Escape(strings.Join(env.Drift, "; ")), report.Escape(strings.Join(env.Unknown, "; ")))
	}
	s.annotate(ctx, style, b.String())
	return nil
}
