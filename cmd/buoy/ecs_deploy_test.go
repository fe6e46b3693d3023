package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/buoy-deploy/buoy/pkg/ecsdeploy"
)

// TestRewriteECSDeployArgs: ecs-deploy's -to and -toc, which pflag would
// read as -t o and -t oc, become their long flags, with or without =;
// a value that happens to read -to, other commands' args and what
// follows -- are left alone.
func TestRewriteECSDeployArgs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		args, want []string
	}{
		{"-to", []string{"ecs-deploy", "-c", "c", "-n", "s", "-to", "0.1.899", "-i", "ignore"},
			[]string{"ecs-deploy", "-c", "c", "-n", "s", "--tag-only", "0.1.899", "-i", "ignore"}},
		{"-toc and -to=", []string{"ecs-deploy", "-toc", "app,worker", "-to=v2"}, []string{"ecs-deploy", "--tag-only-container-names", "app,worker", "--tag-only=v2"}},
		{"-t stays -t", []string{"ecs-deploy", "-t", "600", "-tog"}, []string{"ecs-deploy", "-t", "600", "-tog"}},
		{"after --", []string{"ecs-deploy", "--", "-to"}, []string{"ecs-deploy", "--", "-to"}},
		{"another command", []string{"deploy", "-to"}, []string{"deploy", "-to"}},
		{"nothing", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := rewriteECSDeployArgs(tc.args); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestECSDeployParsesMultiLetterFlags: through the command's own flag
// parser, the rewritten -to and -toc set the tag and the containers, and
// -t still sets the timeout.
func TestECSDeployParsesMultiLetterFlags(t *testing.T) {
	t.Parallel()
	cmd := newECSDeployCommand(&app{})
	args := rewriteECSDeployArgs([]string{"ecs-deploy", "-c", "staging", "-n", "core", "-to", "0.1.899", "-toc", "app,worker", "-i", "ignore", "-t", "600"})[1:]
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	f := cmd.Flags()
	for name, want := range map[string]string{"tag-only": "0.1.899", "tag-only-container-names": "[app,worker]", "timeout": "600", "image": "ignore"} {
		if v := f.Lookup(name).Value.String(); v != want {
			t.Errorf("--%s: got %q, want %q", name, v, want)
		}
	}
	// The classic long spelling with underscores is the same flag.
	cmd = newECSDeployCommand(&app{})
	if err := cmd.ParseFlags([]string{"--tag_only_container_names", "app"}); err != nil || cmd.Flags().Lookup("tag-only-container-names").Value.String() != "[app]" {
		t.Errorf("--tag_only_container_names app: got %v, %q; want [app]", err, cmd.Flags().Lookup("tag-only-container-names").Value.String())
	}
}

// TestECSDeployInput: the flags become the library's input; -i is
// dropped with -to, as ecs-deploy ignores it; --log-lines 0 asks for no
// lines (the library's 0 would be its default).
func TestECSDeployInput(t *testing.T) {
	t.Parallel()
	a := &app{getenv: func(k string) string { return map[string]string{"GIT_TAG": "v9"}[k] }}
	changed := func(name string) bool { return name == "desired-count" }
	for _, tc := range []struct {
		name string
		cfg  ecsDeployConfig
		want ecsdeploy.Input
	}{
		{"a service", ecsDeployConfig{cluster: "c", service: "s", image: "repo/api", tagEnvVar: "GIT_TAG", timeout: 90, desiredCount: 0, skipDeployments: true, useLatest: true},
			ecsdeploy.Input{Cluster: "c", Service: "s", Image: "repo/api", Tag: "v9", Timeout: 90 * time.Second, DesiredCount: aws.Int32(0), SkipDeploymentsCheck: true, UseLatestTaskDefinition: true}},
		{"tag only", ecsDeployConfig{cluster: "c", service: "s", image: "ignore", tagOnly: "0.1.899", tagOnlyContainers: []string{"app"}, timeout: 90},
			ecsdeploy.Input{Cluster: "c", Service: "s", TagOnly: "0.1.899", TagOnlyContainers: []string{"app"}, Timeout: 90 * time.Second, DesiredCount: aws.Int32(0)}},
		{"a one-off task", ecsDeployConfig{cluster: "c", taskDefinition: "migrate", image: "repo/api:v2", timeout: 60, runTask: true, waitForSuccess: true,
			launchType: "fargate", platformVersion: "1.4.0", network: "awsvpcConfiguration={subnets=[subnet-1]}", logLines: 0},
			ecsdeploy.Input{Cluster: "c", TaskDefinition: "migrate", Image: "repo/api:v2", Timeout: time.Minute, DesiredCount: aws.Int32(0),
				RunTask: &ecsdeploy.RunTaskInput{Wait: true, LaunchType: "FARGATE", PlatformVersion: "1.4.0", LogLines: -1,
					Network: &ecsdeploy.NetworkConfiguration{Subnets: []string{"subnet-1"}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.cfg.input(a, changed)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("input: got %+v, %v\nwant %+v", got, err, tc.want)
			}
		})
	}
}

// TestParseNetworkConfiguration reads the AWS CLI's shorthand and JSON
// of an awsvpc configuration, and refuses what ECS would.
func TestParseNetworkConfiguration(t *testing.T) {
	t.Parallel()
	full := &ecsdeploy.NetworkConfiguration{Subnets: []string{"subnet-1", "subnet-2"}, SecurityGroups: []string{"sg-1"}, AssignPublicIP: "ENABLED"}
	for _, tc := range []struct {
		name, in string
		want     *ecsdeploy.NetworkConfiguration
		err      string
	}{
		{"shorthand", "awsvpcConfiguration={subnets=[subnet-1,subnet-2],securityGroups=[sg-1],assignPublicIp=ENABLED}", full, ""},
		{"shorthand with spaces", " awsvpcConfiguration={subnets=[subnet-1, subnet-2], securityGroups=[sg-1], assignPublicIp=ENABLED} ", full, ""},
		{"a lone subnet", "awsvpcConfiguration={subnets=subnet-1}", &ecsdeploy.NetworkConfiguration{Subnets: []string{"subnet-1"}}, ""},
		{"JSON", `{"awsvpcConfiguration": {"subnets": ["subnet-1", "subnet-2"], "securityGroups": ["sg-1"], "assignPublicIp": "ENABLED"}}`, full, ""},
		{"no subnets", "awsvpcConfiguration={securityGroups=[sg-1]}", nil, "no subnets"},
		{"an unknown key", "awsvpcConfiguration={subnets=[subnet-1],vpc=vpc-1}", nil, `no "vpc"`},
		{"a key twice", "awsvpcConfiguration={subnets=[subnet-1],subnets=[subnet-2]}", nil, "subnets is given twice"},
		{"a bad public IP", "awsvpcConfiguration={subnets=[subnet-1],assignPublicIp=yes}", nil, "must be ENABLED or DISABLED"},
		{"not a configuration", "subnet-1", nil, "is not a network configuration"},
		{"JSON with an unknown key", `{"awsvpcConfiguration": {"subnets": ["subnet-1"], "vpc": "x"}}`, nil, "not the JSON"},
		{"JSON without awsvpcConfiguration", `{}`, nil, "no awsvpcConfiguration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseNetworkConfiguration(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("got %+v, %v; want an error saying %q", got, err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// TestECSDeployCredentials: -k and -s are the credentials; with
// --aws-instance-profile they are the instance role's, read from the
// metadata service (a fake one here), whatever the environment holds.
func TestECSDeployCredentials(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	imdsServer := fakeIMDS(t, "ASIAINSTANCEROLE0001", "instance-secret")
	base, err := config.LoadDefaultConfig(ctx, config.WithRegion("eu-west-1"), config.WithEC2IMDSEndpoint(imdsServer.URL),
		config.WithSharedConfigFiles(nil), config.WithSharedCredentialsFiles(nil),
		config.WithCredentialsProvider(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIAFROMTHEENVIRONMENT", SecretAccessKey: "env"}, nil
		})))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		flags      awsCredentialFlags
		key, token string
		log        string // what -v says of them
	}{
		{"none: the default chain's", awsCredentialFlags{}, "AKIAFROMTHEENVIRONMENT", "", ""},
		{"-k and -s", awsCredentialFlags{accessKey: "AKIAFROMFLAGS", secretKey: "flag-secret"}, "AKIAFROMFLAGS", "", "credentials from -k/--aws-access-key and -s/--aws-secret-key"},
		{"--aws-instance-profile", awsCredentialFlags{instanceProfile: true}, "ASIAINSTANCEROLE0001", "instance-token", "credentials of the instance's IAM role"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var log bytes.Buffer
			cfg := tc.flags.apply(ctx, base, slogTo(&log))
			got, err := cfg.Credentials.Retrieve(ctx)
			if err != nil || got.AccessKeyID != tc.key || got.SessionToken != tc.token {
				t.Errorf("credentials: got %s (token %q), %v; want %s (token %q)", got.AccessKeyID, got.SessionToken, err, tc.key, tc.token)
			}
			if !strings.Contains(log.String(), tc.log) || (tc.log == "" && log.Len() > 0) {
				t.Errorf("the verbose log:\n%s\nwant it to say %q", &log, tc.log)
			}
			for _, secret := range []string{"flag-secret", "AKIAFROMFLAGS", "instance-secret"} {
				if strings.Contains(log.String(), secret) {
					t.Errorf("the verbose log holds %s:\n%s", secret, &log)
				}
			}
		})
	}
}

// slogTo is a debug logger writing to w, as -v makes one.
func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// fakeIMDS is an EC2 instance metadata service (IMDSv2) serving the
// credentials of one role.
func fakeIMDS(t *testing.T, key, secret string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
			w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "21600")
			_, _ = w.Write([]byte("imds-token"))
		case r.Header.Get("X-Aws-Ec2-Metadata-Token") != "imds-token":
			http.Error(w, "no token", http.StatusUnauthorized)
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/":
			_, _ = w.Write([]byte("deploy-role"))
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/deploy-role":
			_ = json.NewEncoder(w).Encode(map[string]string{"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": key,
				"SecretAccessKey": secret, "Token": "instance-token", "Expiration": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestECSDeployVersion: ecs-deploy --version prints buoy's version, as
// the classic script prints its own, and exits 0.
func TestECSDeployVersion(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }, version: "v1.2.3"}
	if code := a.main(context.Background(), []string{"ecs-deploy", "--version"}); code != 0 || out.String() != "v1.2.3\n" {
		t.Errorf("ecs-deploy --version: exit %d, stdout %q, stderr %q; want 0 and v1.2.3", code, out.String(), errb.String())
	}
}

// TestPrintECSDeploy: the text result of a one-off task that failed, as
// docs/cli.md shows it: each container's exit code, essential or not, the
// stop code and reason, and the last log lines.
func TestPrintECSDeploy(t *testing.T) {
	t.Parallel()
	one, zero := int32(1), int32(0)
	res := &ecsdeploy.Result{Image: "repo/api:v2", TaskDefinition: "arn:aws:ecs:eu-west-1:123456789012:task-definition/migrate:8",
		PreviousTaskDefinition: "arn:aws:ecs:eu-west-1:123456789012:task-definition/migrate:7", Outcome: "failed",
		Reason: "task 0f1e2d3c stopped (EssentialContainerExited: Essential container in task exited): essential container migrate exited with code 1",
		Task: &ecsdeploy.TaskResult{ARN: "arn:aws:ecs:eu-west-1:123456789012:task/jobs/0f1e2d3c", Outcome: "tasks-stopped",
			StopCode: "EssentialContainerExited", StoppedReason: "Essential container in task exited",
			Containers: []ecsdeploy.ContainerResult{
				{Name: "migrate", Essential: true, ExitCode: &one, LogGroup: "/ecs/migrate", LogStream: "ecs/migrate/0f1e2d3c",
					Logs: []string{"applying 0042_orders", `ERROR: relation "orders" already exists`}},
				{Name: "log-router", ExitCode: &zero},
				{Name: "init", Essential: true, Reason: "CannotPullContainerError", LogGroup: "/ecs/migrate", LogStream: "ecs/init/0f1e2d3c",
					LogError: "no log stream: the container wrote nothing"}}},
		Deregistered: []string{"arn:aws:ecs:eu-west-1:123456789012:task-definition/migrate:5"}}
	var b bytes.Buffer
	printECSDeploy(&b, res)
	want := `-/-: failed  arn:aws:ecs:eu-west-1:123456789012:task-definition/migrate:7 -> arn:aws:ecs:eu-west-1:123456789012:task-definition/migrate:8
reason: task 0f1e2d3c stopped (EssentialContainerExited: Essential container in task exited): essential container migrate exited with code 1
task arn:aws:ecs:eu-west-1:123456789012:task/jobs/0f1e2d3c: tasks-stopped (EssentialContainerExited: Essential container in task exited)
  container migrate (essential): exit code 1
    last 2 log lines of /ecs/migrate ecs/migrate/0f1e2d3c:
    | applying 0042_orders
    | ERROR: relation "orders" already exists
  container log-router (not essential): exit code 0
  container init (essential): never exited: CannotPullContainerError
    logs /ecs/migrate ecs/init/0f1e2d3c: no log stream: the container wrote nothing
deregistered arn:aws:ecs:eu-west-1:123456789012:task-definition/migrate:5
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", &b, want)
	}
}

// TestECSDeployJSONKeys: --output json names what -to and
// --use-latest-task-def did, and leaves them out otherwise.
func TestECSDeployJSONKeys(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		res  ecsdeploy.Result
		want map[string]bool
	}{
		{ecsdeploy.Result{TagOnly: "0.1.899", BaseTaskDefinition: "arn:…:2"}, map[string]bool{"tagOnly": true, "baseTaskDefinition": true, "task": false}},
		{ecsdeploy.Result{Image: "repo:v2"}, map[string]bool{"tagOnly": false, "baseTaskDefinition": false, "task": false}},
	} {
		var b bytes.Buffer
		if err := writeJSON(&b, &tc.res); err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(b.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		for key, present := range tc.want {
			if _, ok := got[key]; ok != present {
				t.Errorf("%+v: key %q present %v, want %v", tc.res, key, ok, present)
			}
		}
	}
}
