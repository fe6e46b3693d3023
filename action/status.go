package main

import (
	"fmt"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/report"
)

// The values of the status output for the status command: drift when
// any environment drifted, else unknown when ECS did not say what some
// service runs, else in-sync.
const (
	statusInSync  = "in-sync"
	statusDrift   = "drift"
	statusUnknown = "unknown"
)

// writeStatus reports what environments run, warns about drift, and
// writes outputs (for one environment: its release, digests and
// services).
func writeStatus(a *githubactions.Action, r *renderer, rep *deploy.StatusReport) {
	status := statusInSync
	for _, env := range rep.Environments {
		switch {
		case env.State == deploy.Drifted || len(env.Drift) > 0:
			status = statusDrift
		case env.State != deploy.Agrees && status == statusInSync:
			status = statusUnknown
		}
		for _, d := range env.Drift {
			r.annotation(eventFor(rep.Project, env.Environment)).Warningf("%s", annotationText("drift: "+d))
		}
		for _, u := range env.Unknown {
			r.annotation(eventFor(rep.Project, env.Environment)).Warningf("%s", annotationText("unknown: "+u))
		}
	}
	setOutput(a, outStatus, status)
	if len(rep.Environments) == 1 {
		env := rep.Environments[0]
		if env.Current != nil {
			setOutput(a, outReleaseID, env.Current.ReleaseID)
			setOutput(a, outDeploymentID, env.Current.DeploymentID)
		}
		digests := map[string]string{}
		for _, im := range env.Images {
			digests[im.Image] = im.Recorded
		}
		setOutput(a, outImages, jsonObject(digests))
		services := map[string]string{}
		for _, svc := range env.Services {
			services[svc.Service] = fmt.Sprintf("%d/%d running", svc.Running, svc.Desired)
		}
		setOutput(a, outServices, jsonObject(services))
	}
	md := statusMarkdown(rep)
	for _, line := range strings.Split(strings.TrimSpace(md), "\n") {
		a.Infof("%s", safeLine(line))
	}
	setOutput(a, outSummaryMarkdown, md)
	addSummary(a, md)
}

// statusMarkdown renders a status report: one table per environment.
func statusMarkdown(rep *deploy.StatusReport) string {
	var b strings.Builder
	for _, env := range rep.Environments {
		icon := report.StateIcon(env.State)
		if len(env.Drift) > 0 {
			icon = report.StateIcon(deploy.Drifted)
		}
		release := "nothing deployed yet"
		if env.Current != nil {
			release = "release `" + report.ShortID(env.Current.ReleaseID) + "`"
		}
		fmt.Fprintf(&b, "### %s %s/%s runs %s\n\n", icon, report.Escape(rep.Project), report.Escape(env.Environment), release)
		if len(env.Images) > 0 {
			b.WriteString("| Image | Tag | Recorded | Tagged now |\n| --- | --- | --- | --- |\n")
			for _, im := range env.Images {
				fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", report.Escape(im.Image), report.Escape(im.Tag),
					report.Escape(report.ShortDigest(im.Recorded)), report.Escape(report.ShortDigest(im.Tagged)))
			}
			b.WriteString("\n")
		}
		if len(env.Services) > 0 {
			b.WriteString("| Service | Cluster | Task definition | Running | State |\n| --- | --- | --- | --- | --- |\n")
			for _, svc := range env.Services {
				fmt.Fprintf(&b, "| %s | %s | %s | %d/%d | %s %s |\n", report.Escape(svc.Service), report.Escape(svc.Cluster),
					report.Escape(svc.TaskDefinition), svc.Running, svc.Desired, report.StateIcon(svc.State), report.Escape(string(svc.State)))
			}
			b.WriteString("\n")
		}
		for _, d := range env.Drift {
			fmt.Fprintf(&b, "- drift: %s\n", report.Escape(d))
		}
		for _, u := range env.Unknown {
			fmt.Fprintf(&b, "- unknown: %s\n", report.Escape(u))
		}
		if len(env.Drift)+len(env.Unknown) > 0 {
			b.WriteString("\n")
		}
	}
	return b.String()
}
