//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/cihost"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/internal/entrytest"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/internal/secretscan"
)

// TestPluginLeaksNoSecret runs the plugin binary on moto with fake
// secrets in the job's environment: a deployment that succeeds (with
// debug logs on, and notify targets told, their URLs and signing key
// secrets too, the webhook refusing every try), one that fails (its
// history table does not exist), one the library refuses (an unknown
// release) and a bad configuration. No secret may appear in the job log,
// in any buildkite-agent call (arguments and standard input: annotations
// and meta-data) or in the history.
func TestPluginLeaksNoSecret(t *testing.T) {
	t.Parallel()
	hooks := entrytest.NewHooks(t)
	ow := deployfixture.OneService(t, "catalogue", awstest.Name(t, "history"), "", "")
	ow.Environments[0].YAML = []string{hooks.YAML()}
	w := worldOf(t, ow)
	secrets := secretscan.Fake()
	bin := buildPlugin(t)
	extra := map[string]string{"BUOY_DEBUG": "1"}
	for name, v := range secrets {
		extra[name] = v
	}
	maps.Copy(extra, hooks.Env())
	haystacks := entrytest.Haystacks{}
	for _, run := range entrytest.LeakRuns(t, w.table) {
		config, err := json.Marshal(run.Settings)
		if err != nil {
			t.Fatal(err)
		}
		code, log, calls := runBinary(t, bin, w.dir, string(config), extra)
		if code != run.Code {
			t.Errorf("%s: exit code = %d, want %d\n%s", run.Name, code, run.Code, log)
		}
		if len(annotations(calls)) != 1 {
			t.Errorf("%s: %d annotations, want one to scan", run.Name, len(annotations(calls)))
		}
		haystacks[run.Name+": log"] = log
		// The notify targets' URLs and key go to the log redactor
		// (redactor add), which hides them in the rest of the job's log,
		// and to no other call.
		redacted, others := cihost.Redacted(calls)
		if run.Name == "succeeds" {
			for name, v := range hooks.Env() {
				if !slices.Contains(redacted, v) {
					t.Errorf("%s: %s was not given to buildkite-agent redactor add (given: %d values)", run.Name, name, len(redacted))
				}
			}
		}
		for _, v := range redacted {
			if !slices.Contains(slices.Collect(maps.Values(hooks.Env())), v) {
				t.Errorf("%s: redactor add was given a value that is not a notify target's secret (%d bytes)", run.Name, len(v))
			}
		}
		haystacks[run.Name+": buildkite-agent calls"] = fmt.Sprintf("%q", others)
	}
	if !strings.Contains(haystacks["succeeds: log"], "level=DEBUG") {
		t.Errorf("the successful run wrote no debug logs to scan:\n%s", haystacks["succeeds: log"])
	}
	if deps := hooks.Deployments(); len(deps) != 1 {
		t.Errorf("the webhook heard of deployments %q, want the successful run's", deps)
	} else {
		hooks.CheckTold(t, deps[0])
	}
	if !strings.Contains(haystacks["succeeds: log"], "could not notify webhook ("+entrytest.HookURLVar+")") {
		t.Errorf("the successful run did not warn of the webhook that refused it, whose error is to scan:\n%s", haystacks["succeeds: log"])
	}
	haystacks.AddHistory(context.Background(), t, w.table)
	maps.Copy(secrets, hooks.Secrets())
	haystacks.CheckNoSecret(t, secrets)
}

// TestInjectionThroughAWSText deploys to a service whose task definition
// runs an "image" that is Markdown, HTML, a log section marker and a
// terminal escape: buoy refuses it, quoting the text, the annotation shows
// it escaped and the log opens no section of its own.
func TestInjectionThroughAWSText(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "", "")
	evil := "evil\n+++ pwned <script>alert(1)</script> [x](javascript:alert(1)) | cell | \x1b]1339;url=https://evil.example\x07"
	awstest.RunImage(context.Background(), t, ecs.NewFromConfig(awstest.Config(t)), w.cluster, w.service, evil)
	code, log, calls := runBinary(t, buildPlugin(t), w.dir,
		fmt.Sprintf(`{"environment":"stage","from-label":"ref.%s","table":%q}`, deployfixture.NewCommit, w.table), nil)
	if code != exitcode.BadInput {
		t.Errorf("exit code = %d, want %d (the service does not use the image)\n%s", code, exitcode.BadInput, log)
	}
	checkLogSections(t, log)
	if strings.ContainsAny(log, "\x1b\x07") {
		t.Errorf("a terminal escape reached the log:\n%q", log)
	}
	notes := annotations(calls)
	if len(notes) != 1 {
		t.Fatalf("annotations = %v, want one", notes)
	}
	checkAnnotationMarkup(t, notes[0].Stdin)
	if !strings.Contains(notes[0].Stdin, `evil +++ pwned &lt;script&gt;alert\(1\)&lt;/script&gt; \[x\]\(javascript:alert\(1\)\) \| cell \|`) {
		t.Errorf("the annotation does not show the image text escaped:\n%s", notes[0].Stdin)
	}
}
