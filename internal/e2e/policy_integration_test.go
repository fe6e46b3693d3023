//go:build integration

package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/internal/entrytest"
	"github.com/buoy-deploy/buoy/internal/faultproxy"
	"github.com/buoy-deploy/buoy/internal/secretscan"
	"github.com/buoy-deploy/buoy/pkg/iampolicy"
)

// TestEveryCallIsInThePolicyAndNoSecretLeaks runs the CLI end to end
// (release-deploy, status, history; verbose and JSON output) with fake
// secrets in its environment, and notify targets whose URLs and signing
// key are secrets too (the webhook refusing every try), then checks that
// every AWS call it made is allowed by the policy `buoy iam-policy`
// prints for the manifest, and that no secret appears in stdout, stderr
// or the history table.
func TestEveryCallIsInThePolicyAndNoSecretLeaks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bin := buildCLI(t)
	hooks := entrytest.NewHooks(t)
	f := deployfixture.New(ctx, t, awstest.Config(t), deployfixture.Options{Images: 2, ExtraYAML: []string{hooks.YAML()}})
	p := proxy(t)
	env := cliEnv(t, p.URL(), "ci")
	fakeSecrets := secretscan.Fake()
	for k, v := range fakeSecrets {
		env = append(env, k+"="+v)
	}
	for k, v := range hooks.Env() {
		env = append(env, k+"="+v)
	}
	maps.Copy(fakeSecrets, hooks.Secrets())
	// cliEnv set AWS_SECRET_ACCESS_KEY=testing; the later value wins.
	runs := [][]string{
		deployArgs(f, "--verbose"),
		deployArgs(f, "--output", "json", "--verbose"),
		{"status", "--manifest", f.Manifest, "--table", f.Table, "--verbose"},
		{"history", "--manifest", f.Manifest, "--table", f.Table, "--output", "json"},
	}
	var outputs []string
	for _, args := range runs {
		r := start(t, bin, env, args...)
		if code := r.wait(t); code != 0 {
			t.Fatalf("buoy %s: exit %d\n%s", args[0], code, r.output())
		}
		outputs = append(outputs, r.output())
	}
	if !strings.Contains(outputs[0], "could not notify webhook ("+entrytest.HookURLVar+")") {
		t.Errorf("the deployment did not warn of the webhook that refused it, whose error is to scan:\n%s", outputs[0])
	}
	if len(hooks.Requests()) < 2*(2+8) {
		t.Errorf("the notify targets got %d requests, want those of two deployments", len(hooks.Requests()))
	}

	// Every call is covered by the policy.
	doc, distinct := policyCovers(t, bin, p.URL(), f.Manifest, f.Table, p.Calls())
	// The check can fail: what buoy never does is not allowed.
	for _, deny := range [][2]string{
		{"ecr:DeleteRepository", "arn:aws:ecr:" + awstest.Region + ":" + awstest.AccountID + ":repository/" + f.Images[0].Repository},
		{"dynamodb:PutItem", "arn:aws:dynamodb:" + awstest.Region + ":" + awstest.AccountID + ":table/another-table"},
		{"ecr:PutImage", "arn:aws:ecr:" + awstest.Region + ":" + awstest.AccountID + ":repository/not-in-the-manifest"},
	} {
		if allowed(doc, deny[0], deny[1]) {
			t.Errorf("the policy allows %s on %s, which buoy never needs", deny[0], deny[1])
		}
	}
	if distinct < 8 {
		t.Errorf("only %d distinct calls recorded", distinct)
	}

	// No secret anywhere.
	scan, err := dynamodb.NewFromConfig(awstest.Config(t)).Scan(ctx, &dynamodb.ScanInput{TableName: &f.Table})
	if err != nil {
		t.Fatalf("scan the history table: %v", err)
	}
	records, err := json.Marshal(scan.Items)
	if err != nil {
		t.Fatal(err)
	}
	if len(scan.Items) < 3 {
		t.Errorf("history table holds %d items, want the release, deployments and current record", len(scan.Items))
	}
	haystacks := map[string]string{"history table": string(records)}
	for i, o := range outputs {
		haystacks[fmt.Sprintf("output of run %d (buoy %s)", i+1, runs[i][0])] = o
	}
	for where, text := range haystacks {
		if found := secretscan.Find(text, fakeSecrets); len(found) > 0 {
			t.Errorf("%s contains %v", where, found)
		}
	}
}

// TestKeepRevisionsCallsAreInThePolicy: a release-deploy with the
// task-definition strategy and keep_revisions reads what uses a revision
// in every cluster and EventBridge rule before it deregisters one; every
// one of those calls is allowed by the policy `buoy iam-policy` prints.
func TestKeepRevisionsCallsAreInThePolicy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bin := buildCLI(t)
	f := deployfixture.New(ctx, t, awstest.EveryResourceConfig(t), deployfixture.Options{Images: 1,
		ExtraYAML: []string{"strategy: task-definition", "keep_revisions: 1"}})
	p := proxy(t)
	r := start(t, bin, cliEnv(t, p.URL(), "ci"), deployArgs(f, "--verbose")...)
	if code := r.wait(t); code != 0 {
		t.Fatalf("release-deploy: exit %d\n%s", code, r.output())
	}
	calls := p.Calls()
	var cleanup []string
	for _, c := range calls {
		if c.Service == "events" || c.Action() == "ecs:ListClusters" || c.Action() == "ecs:ListTasks" {
			cleanup = append(cleanup, c.Action())
		}
	}
	for _, want := range []string{"ecs:ListClusters", "ecs:ListTasks", "events:ListEventBuses", "events:ListRules"} {
		if !slices.Contains(cleanup, want) {
			t.Errorf("the cleanup made no %s call (its calls: %v)", want, cleanup)
		}
	}
	policyCovers(t, bin, p.URL(), f.Manifest, f.Table, calls)
}

// policyCovers checks that the policy `buoy iam-policy` prints for the
// manifest allows every call, and returns it with the number of distinct
// calls (action and resource) checked.
func policyCovers(t *testing.T, bin, endpoint, manifest, table string, calls []faultproxy.Call) (iampolicy.Document, int) {
	t.Helper()
	pol := start(t, bin, cliEnv(t, endpoint, "ci"), "iam-policy", "--manifest", manifest, "--table", table,
		"--account-id", awstest.AccountID, "--region", awstest.Region)
	if code := pol.wait(t); code != 0 {
		t.Fatalf("iam-policy: exit %d\n%s", code, pol.output())
	}
	var doc iampolicy.Document
	if err := json.Unmarshal(pol.stdout.Bytes(), &doc); err != nil {
		t.Fatalf("decode the policy: %v\n%s", err, pol.stdout.String())
	}
	seen := map[string]bool{}
	for _, c := range calls {
		for _, res := range resources(t, c) {
			key := c.Action() + " on " + res
			if seen[key] {
				continue
			}
			seen[key] = true
			if !allowed(doc, c.Action(), res) {
				t.Errorf("%s is not allowed by the policy iam-policy prints", key)
			}
		}
	}
	return doc, len(seen)
}

// resources returns the ARNs a call acts on, from its request body.
func resources(t *testing.T, c faultproxy.Call) []string {
	t.Helper()
	var in struct {
		RepositoryName, RegistryID, TableName, IndexName, Cluster, Service string
		Services                                                           []string
		Name, Path                                                         string   // SSM parameter, path
		Names                                                              []string // SSM parameters
		TaskDefinition                                                     string   // RunTask's
		LogGroupName                                                       string   // GetLogEvents'
	}
	if len(c.Body) > 0 && c.Body[0] == '{' {
		if err := json.Unmarshal(c.Body, &in); err != nil {
			t.Fatalf("decode %s request: %v", c.Action(), err)
		}
	}
	region, acct := awstest.Region, awstest.AccountID
	switch c.Service {
	case "ecr":
		if in.RegistryID != "" {
			acct = in.RegistryID
		}
		return []string{"arn:aws:ecr:" + region + ":" + acct + ":repository/" + in.RepositoryName}
	case "dynamodb":
		arn := "arn:aws:dynamodb:" + region + ":" + acct + ":table/" + in.TableName
		if in.IndexName != "" {
			arn += "/index/" + in.IndexName
		}
		return []string{arn}
	case "ecs":
		if c.Operation == "RunTask" {
			return []string{in.TaskDefinition} // an ARN: buoy runs a revision it read or registered
		}
		svcs := in.Services
		if in.Service != "" {
			svcs = append(svcs, in.Service)
		}
		if len(svcs) == 0 {
			return []string{"*"}
		}
		var out []string
		for _, s := range svcs {
			if strings.HasPrefix(s, "arn:") {
				out = append(out, s)
				continue
			}
			out = append(out, "arn:aws:ecs:"+region+":"+acct+":service/"+path.Base(in.Cluster)+"/"+s)
		}
		return out
	case "logs":
		return []string{"arn:aws:logs:" + region + ":" + acct + ":log-group:" + in.LogGroupName}
	case "ssm":
		var out []string
		for _, name := range append(append(in.Names, in.Name), in.Path) {
			if name != "" {
				out = append(out, "arn:aws:ssm:"+region+":"+acct+":parameter"+name)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return []string{"*"}
}

// allowed reports whether some statement of doc allows action on res,
// with IAM's wildcards.
func allowed(doc iampolicy.Document, action, res string) bool {
	for _, st := range doc.Statement {
		if st.Effect != "Allow" {
			continue
		}
		actionOK, resOK := false, false
		for _, a := range st.Action {
			actionOK = actionOK || wildcard(strings.ToLower(a), strings.ToLower(action))
		}
		for _, r := range st.Resource {
			resOK = resOK || wildcard(r, res) || r == "*"
		}
		if actionOK && resOK {
			return true
		}
	}
	return false
}

// wildcard matches s against an IAM pattern, where * matches any run of
// characters (including /) and ? one character.
func wildcard(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if wildcard(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && wildcard(pattern[1:], s[1:])
	default:
		return s != "" && s[0] == pattern[0] && wildcard(pattern[1:], s[1:])
	}
}
