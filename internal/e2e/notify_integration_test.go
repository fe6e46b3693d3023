//go:build integration

package e2e_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/internal/entrytest"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/internal/secretscan"
)

// storedNotification is a notification as the deployment's item in
// DynamoDB holds it (its "data" attribute, JSON).
type storedNotification struct {
	Target, Event, Outcome, Error string
	Attempts                      int
}

// storedDeployments reads the deployment items of table with the AWS
// SDK: their status and notifications, by deployment id.
func storedDeployments(ctx context.Context, t *testing.T, table string) map[string]struct {
	Status        string
	Notifications []storedNotification
} {
	t.Helper()
	out, err := dynamodb.NewFromConfig(awstest.Config(t)).Scan(ctx, &dynamodb.ScanInput{TableName: &table,
		FilterExpression:          new("kind = :k"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":k": &ddbtypes.AttributeValueMemberS{Value: "deployment"}}})
	if err != nil {
		t.Fatalf("scan the history: %v", err)
	}
	deps := map[string]struct {
		Status        string
		Notifications []storedNotification
	}{}
	for _, it := range out.Items {
		data, _ := it["data"].(*ddbtypes.AttributeValueMemberS)
		var d struct {
			ID            string
			Status        string
			Notifications []storedNotification
		}
		if data == nil || json.Unmarshal([]byte(data.Value), &d) != nil {
			t.Fatalf("a deployment item holds no record: %v", it)
		}
		deps[d.ID] = struct {
			Status        string
			Notifications []storedNotification
		}{d.Status, d.Notifications}
	}
	return deps
}

// TestNotificationsEndToEnd runs the CLI on moto with a manifest whose
// stage tells a Slack webhook and a signed webhook that refuses every
// try. With the webhook's signing key unset, the run fails as bad input
// naming the variable before anything happens: no record, no tag moved,
// no one told. With it set, the deployment succeeds: Slack hears of the
// start and the success, the webhook is tried four times for each,
// signed, and the record in DynamoDB (read with the AWS SDK) keeps both
// given-up notifications with their error and tries. No output holds a
// URL's secret path or the key.
func TestNotificationsEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bin := buildCLI(t)
	hooks := entrytest.NewHooks(t)
	f := deployfixture.New(ctx, t, awstest.Config(t), deployfixture.Options{Images: 1, ExtraYAML: []string{hooks.YAML()}})
	img := f.Images[0]
	var env, noKey []string
	for k, v := range hooks.Env() {
		env = append(env, k+"="+v)
		if k != entrytest.HookSecretVar {
			noKey = append(noKey, k+"="+v)
		}
	}

	missing := start(t, bin, cliEnv(t, awstest.Endpoint(t), "ci", noKey...), deployArgs(f)...)
	if code := missing.wait(t); code != exitcode.BadInput {
		t.Errorf("without %s: exit %d, want %d (bad input)\n%s", entrytest.HookSecretVar, code, exitcode.BadInput, missing.output())
	}
	if want := "environment variable " + entrytest.HookSecretVar + ", the signing secret of notify target webhook (" + entrytest.HookURLVar + ")"; !strings.Contains(missing.stderr.String(), want) {
		t.Errorf("without %s: stderr does not say %q:\n%s", entrytest.HookSecretVar, want, missing.output())
	}
	if deps := storedDeployments(ctx, t, f.Table); len(deps) != 0 {
		t.Errorf("without %s: %d deployments recorded, want none", entrytest.HookSecretVar, len(deps))
	}
	if got := f.TagDigest(ctx, t, img.Repository, "env."+deployfixture.Environment); got != img.Old {
		t.Errorf("without %s: the floating tag moved to %s, want it at %s", entrytest.HookSecretVar, got, img.Old)
	}
	if n := len(hooks.Requests()); n != 0 {
		t.Errorf("without %s: the targets got %d requests, want none", entrytest.HookSecretVar, n)
	}

	ok := start(t, bin, cliEnv(t, awstest.Endpoint(t), "ci", env...), deployArgs(f, "--output", "json")...)
	if code := ok.wait(t); code != exitcode.OK {
		t.Fatalf("with every variable: exit %d, want 0: a failed notification never fails a deployment\n%s", code, ok.output())
	}
	var res struct{ Deployment, Status string }
	if err := json.Unmarshal(ok.stdout.Bytes(), &res); err != nil || res.Status != "succeeded" {
		t.Fatalf("result: %v, %+v; want a succeeded deployment\n%s", err, res, ok.output())
	}
	hooks.CheckTold(t, res.Deployment)
	rec, found := storedDeployments(ctx, t, f.Table)[res.Deployment]
	if !found || rec.Status != "succeeded" {
		t.Fatalf("deployment %s's record: got %+v, want it succeeded", res.Deployment, rec)
	}
	slack, hook := "slack ("+entrytest.SlackURLVar+")", "webhook ("+entrytest.HookURLVar+")"
	const gaveUp = "it answered 500 Internal Server Error (4 tries)"
	want := []storedNotification{
		{Target: slack, Event: "start", Outcome: "sent", Attempts: 1},
		{Target: hook, Event: "start", Outcome: "failed", Error: gaveUp, Attempts: 4},
		{Target: slack, Event: "success", Outcome: "sent", Attempts: 1},
		{Target: hook, Event: "success", Outcome: "failed", Error: gaveUp, Attempts: 4},
	}
	if len(rec.Notifications) != len(want) {
		t.Fatalf("recorded notifications: got %+v, want %+v", rec.Notifications, want)
	}
	for i := range want {
		if rec.Notifications[i] != want[i] {
			t.Errorf("recorded notification %d: got %+v, want %+v", i, rec.Notifications[i], want[i])
		}
	}
	for _, ev := range []string{"start", "success"} {
		if w := "could not notify " + hook + " of the deployment's " + ev + ": " + gaveUp; !strings.Contains(ok.stderr.String(), w) {
			t.Errorf("stderr does not warn %q:\n%s", w, ok.output())
		}
	}
	for where, text := range map[string]string{"the refused run": missing.output(), "the deployment": ok.output()} {
		if found := secretscan.Find(text, hooks.Secrets()); len(found) > 0 {
			t.Errorf("the output of %s holds %v", where, found)
		}
	}
}
