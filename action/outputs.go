package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/report"
)

// outputDelimiter is the heredoc delimiter go-githubactions writes outputs
// with. It is fixed, so a value must never contain it.
const outputDelimiter = "_GitHubActionsFileCommandDelimeter_"

// setOutput writes a step output when the runner asked for outputs
// (GITHUB_OUTPUT is set); go-githubactions panics otherwise.
func setOutput(a *githubactions.Action, name, value string) {
	if a.Getenv("GITHUB_OUTPUT") == "" {
		return
	}
	if !slices.Contains(outputNames(), name) {
		a.Warningf("buoy-action bug: output %s is not declared in action.yml", name)
	}
	a.SetOutput(name, strings.ReplaceAll(value, outputDelimiter, "_GitHubActionsFileCommandDelimiter_"))
}

// addSummary appends Markdown to the job summary when the runner asked
// for one (GITHUB_STEP_SUMMARY is set).
func addSummary(a *githubactions.Action, markdown string) {
	if a.Getenv("GITHUB_STEP_SUMMARY") == "" {
		return
	}
	a.AddStepSummary(markdown)
}

// writeResult writes a deploying operation's outputs and job summary.
func writeResult(a *githubactions.Action, s *settings, res *deploy.Result) {
	if res.Release != nil {
		setOutput(a, outReleaseID, res.Release.ID)
	}
	if res.Deployment != nil {
		setOutput(a, outDeploymentID, res.Deployment.ID)
	}
	setOutput(a, outStatus, string(res.Status))
	setOutput(a, outImages, jsonObject(imageDigests(res)))
	setOutput(a, outServices, jsonObject(serviceOutcomes(res.Services)))
	md := report.Markdown(string(s.Operation), res)
	setOutput(a, outSummaryMarkdown, md)
	addSummary(a, md)
}

// writeRefusal writes the outputs and job summary of a run that ended
// before any deployment was recorded (bad inputs, a bad manifest, an
// unknown environment or release, a held lock, a protected environment):
// status says why, as the plugin's buoy:status does, and the summary
// states the refusal and what to do. s is nil when the inputs could not
// be read; res, when the library returned one, may name the release.
func writeRefusal(a *githubactions.Action, s *settings, res *deploy.Result, err error) {
	status := exitcode.Refusal(err)
	var ie *inputError
	if errors.As(err, &ie) {
		status = exitcode.StatusInvalid
	}
	setOutput(a, outStatus, status)
	if res != nil && res.Release != nil && res.Status != deploy.StatusPlanned {
		setOutput(a, outReleaseID, res.Release.ID)
	}
	md := refusalMarkdown(s, status, err)
	setOutput(a, outSummaryMarkdown, md)
	addSummary(a, md)
}

// refusalMarkdown is the job summary of a refused run.
func refusalMarkdown(s *settings, status string, err error) string {
	what := "buoy"
	if s != nil {
		what += " " + string(s.Operation)
		if s.Environment != "" {
			what += " to " + s.Environment
		}
	}
	icon, changed := "❌", ""
	switch status {
	case exitcode.StatusLocked:
		icon, changed = "🔒", "Nothing was deployed: another run holds the environment's lock.\n\n"
	case exitcode.StatusInvalid, exitcode.StatusConfirmationRequired:
		icon, changed = "⛔", "Nothing was deployed.\n\n"
	}
	// The error says what to do (explain, or the input checks).
	return fmt.Sprintf("### %s %s: %s\n\n%s%s\n", icon, report.Escape(what), status, changed, report.Escape(err.Error()))
}

// writeRelease writes the outputs of a new release.
func writeRelease(a *githubactions.Action, rel *history.Release) {
	setOutput(a, outReleaseID, rel.ID)
	digests := make(map[string]string, len(rel.Images))
	for id, im := range rel.Images {
		digests[id] = im.Digest
	}
	setOutput(a, outImages, jsonObject(digests))
	var b strings.Builder
	fmt.Fprintf(&b, "### 📦 %s: release %s from %s\n\n| Image | Repository | Digest |\n| --- | --- | --- |\n",
		report.Escape(rel.Project), report.Escape(report.ShortID(rel.ID)), report.Escape(rel.Label))
	for _, id := range sortedKeys(digests) {
		im := rel.Images[id]
		fmt.Fprintf(&b, "| %s | %s | `%s` |\n", report.Escape(id), report.Escape(im.Repository), report.ShortDigest(im.Digest))
	}
	fmt.Fprintf(&b, "\nRelease `%s`.\n", rel.ID)
	setOutput(a, outSummaryMarkdown, b.String())
	addSummary(a, b.String())
}

// imageDigests maps each image id to the digest the release pins.
func imageDigests(res *deploy.Result) map[string]string {
	out := map[string]string{}
	if res.Release != nil {
		for id, im := range res.Release.Images {
			out[id] = im.Digest
		}
	}
	for _, im := range res.Images {
		if _, ok := out[im.Image]; !ok {
			out[im.Image] = im.To
		}
	}
	return out
}

// serviceOutcomes maps each service to its outcome. A service name found
// in several clusters is keyed "cluster/service" instead.
func serviceOutcomes(services []deploy.ServiceResult) map[string]string {
	count := map[string]int{}
	for _, s := range services {
		count[s.Service]++
	}
	out := make(map[string]string, len(services))
	for _, s := range services {
		key := s.Service
		if count[s.Service] > 1 {
			key = s.Cluster + "/" + s.Service
		}
		out[key] = string(s.Outcome)
	}
	return out
}

// jsonObject renders m as a JSON object with sorted keys.
func jsonObject(m map[string]string) string {
	b, err := json.Marshal(m) // maps marshal with sorted keys
	if err != nil {
		return "{}"
	}
	return string(b)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
