package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/report"
)

// prepare creates a release and reports it.
func (s *step) prepare(ctx context.Context, dep deployer) error {
	label := s.cfg.FromLabel
	rel, err := dep.Prepare(ctx, deploy.PrepareInput{
		Label:       label,
		RequestedBy: s.build.requester(),
		Description: s.build.description(s.cfg.Description),
		CI:          s.build.ci(),
	})
	if err != nil {
		return s.fail(ctx, "buoy prepare", err)
	}
	if label == "" {
		label = "latest"
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

// status reports what each environment runs and any drift.
func (s *step) status(ctx context.Context, dep deployer) error {
	in := deploy.StatusInput{}
	if s.cfg.Environment != "" {
		in.Environments = []string{s.cfg.Environment}
	}
	rep, err := dep.Status(ctx, in)
	if err != nil {
		return s.fail(ctx, "buoy status", err)
	}
	drift := false
	for _, env := range rep.Environments {
		drift = drift || len(env.Drift) > 0
	}
	icon, emoji, style := ":white_check_mark:", "✅", styleSuccess
	if drift {
		icon, emoji, style = ":warning:", "⚠️", styleWarning
	}
	s.log.result(fmt.Sprintf("%s %s: status", icon, rep.Project), false)

	var b strings.Builder
	fmt.Fprintf(&b, "### %s %s: what runs where\n\n", emoji, report.Escape(rep.Project))
	b.WriteString("| Environment | Release | Services | Drift |\n| --- | --- | --- | --- |\n")
	for _, env := range rep.Environments {
		release := "never deployed"
		if env.Current != nil {
			release = report.ShortID(env.Current.ReleaseID)
		}
		var services []string
		for _, svc := range env.Services {
			services = append(services, fmt.Sprintf("%s %d/%d", svc.Service, svc.Running, svc.Desired))
		}
		s.log.printf("  %s: release %s; services %s", env.Environment, release, strings.Join(services, ", "))
		for _, d := range env.Drift {
			s.log.printf("  ⚠️ %s: drift: %s", env.Environment, d)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", report.Escape(env.Environment), report.Escape(release),
			report.Escape(strings.Join(services, ", ")), report.Escape(strings.Join(env.Drift, "; ")))
	}
	s.annotate(ctx, style, b.String())
	return nil
}
