//go:build integration

package ecsdeploy_test

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/faultproxy"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/ecsdeploy"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// TestMotoUseLatestTaskDefinition: the service runs revision 1 and the
// family's newest is 2 (A=2). Without UseLatestTaskDefinition the new
// revision copies 1 (A=1); with it, 2; either way the service runs the
// new revision, with the image, and remembers 1 as what it ran.
func TestMotoUseLatestTaskDefinition(t *testing.T) {
	t.Parallel()
	for _, latest := range []bool{false, true} {
		t.Run(map[bool]string{false: "the service's", true: "the newest"}[latest], func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			rev1 := w.Register("v1", "1")
			cluster := w.Service("api", rev1)
			rev2 := w.Register("v1", "2")
			res, err := w.deploy(ecsdeploy.Input{Cluster: cluster, Service: "api", Image: w.Repo + ":v3", UseLatestTaskDefinition: latest})
			if err != nil {
				t.Fatalf("Deploy: %v", err)
			}
			wantBase, wantEnv := "", "1"
			if latest {
				wantBase, wantEnv = rev2, "2"
			}
			if res.TaskDefinition != w.ARN(3) || res.PreviousTaskDefinition != rev1 || res.BaseTaskDefinition != wantBase || res.Outcome != history.StatusSucceeded {
				t.Errorf("result: got %+v; want %s from %s based on %q, succeeded", res, w.ARN(3), rev1, wantBase)
			}
			images, env, _ := w.Describe(w.ARN(3))
			if images["api"] != w.Repo+":v3" || env["api.A"] != wantEnv {
				t.Errorf("revision 3 runs %s with A=%s; want %s:v3 with A=%s", images["api"], env["api.A"], w.Repo, wantEnv)
			}
			if got := w.Runs(cluster, "api"); got != w.ARN(3) {
				t.Errorf("the service runs %s, want %s", got, w.ARN(3))
			}
		})
	}
}

// TestMotoTagOnly: a tag for every container's image retags the app and
// the sidecar (both images' repositories kept), or, with containers
// named, only those; the task definition's tags are copied, and the
// service runs the new revision.
func TestMotoTagOnly(t *testing.T) {
	t.Parallel()
	const sidecar = "public.ecr.aws/aws-observability/aws-for-fluent-bit"
	for _, tc := range []struct {
		name       string
		containers []string
		want       map[string]string // by container, "" for the world's repo
	}{
		{"every container", nil, map[string]string{"api": ":0.1.899", "log-router": sidecar + ":0.1.899"}},
		{"the named ones", []string{"api"}, map[string]string{"api": ":0.1.899", "log-router": sidecar + ":stable"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			cluster := w.Service("core", w.Register("v1", "1"))
			res, err := w.deploy(ecsdeploy.Input{Cluster: cluster, Service: "core", TagOnly: "0.1.899", TagOnlyContainers: tc.containers})
			if err != nil {
				t.Fatalf("Deploy: %v", err)
			}
			if res.TaskDefinition != w.ARN(2) || res.TagOnly != "0.1.899" || res.Image != "" {
				t.Errorf("result: got %+v; want revision 2, tag only 0.1.899, no image", res)
			}
			images, _, tags := w.Describe(w.ARN(2))
			want := maps.Clone(tc.want)
			want["api"] = w.Repo + want["api"]
			if !maps.Equal(images, want) {
				t.Errorf("revision 2 runs %v, want %v", images, want)
			}
			if len(tags) != 1 || aws.ToString(tags[0].Key) != "team" {
				t.Errorf("revision 2's tags: got %v, want team=shop copied", tags)
			}
			if got := w.Runs(cluster, "core"); got != w.ARN(2) {
				t.Errorf("the service runs %s, want %s", got, w.ARN(2))
			}
		})
	}
}

// TestMotoForceNewDeployment: the service is redeployed as it runs, no
// revision registered.
func TestMotoForceNewDeployment(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rev1 := w.Register("v1", "1")
	cluster := w.Service("api", rev1)
	res, err := w.deploy(ecsdeploy.Input{Cluster: cluster, Service: "api", ForceNewDeployment: true})
	if err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	if res.TaskDefinition != rev1 || res.PreviousTaskDefinition != rev1 || res.ECSDeployment == "" || res.Outcome != history.StatusSucceeded {
		t.Errorf("result: got %+v; want %s redeployed, succeeded", res, rev1)
	}
	if res.Stats["ECS.UpdateService"] != 1 || res.Stats["ECS.RegisterTaskDefinition"] != 0 {
		t.Errorf("calls: got %v; want one UpdateService and no RegisterTaskDefinition", res.Stats)
	}
	if got := w.Active(); !slices.Equal(got, []int{1}) {
		t.Errorf("ACTIVE revisions: got %v, want [1]", got)
	}
}

// TestMotoMaxDefinitionsKeepsWhatIsInUse: the family has revisions 1 to 6;
// a service of another cluster runs 3 and a scheduled EventBridge rule
// runs 2. Deploying with MaxDefinitions 2, a service that ran 5 (or a
// task definition, from 5) registers 7; then 7 and 6 are kept as the
// newest, 5 as what ran before, 3 and 2 as in use; only 1 and 4 are
// deregistered, as moto then says.
func TestMotoMaxDefinitionsKeepsWhatIsInUse(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"service", "task definition"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			for i := range 6 {
				w.Register("v1", string(rune('1'+i)))
			}
			w.Service("other", w.ARN(3))
			scheduleRule(t, w, w.ARN(2))
			in := ecsdeploy.Input{Image: w.Repo + ":v7", MaxDefinitions: 2}
			if mode == "service" {
				in.Cluster, in.Service = w.Service("api", w.ARN(5)), "api"
			} else {
				in.TaskDefinition = w.ARN(5)
			}
			res, err := w.deploy(in)
			if err != nil {
				t.Fatalf("Deploy: %v", err)
			}
			if want := []string{w.ARN(4), w.ARN(1)}; !slices.Equal(res.Deregistered, want) {
				t.Errorf("deregistered: got %v, want %v", res.Deregistered, want)
			}
			if got, want := w.Active(), []int{2, 3, 5, 6, 7}; !slices.Equal(got, want) {
				t.Errorf("ACTIVE revisions, as moto says: got %v, want %v", got, want)
			}
		})
	}
}

// scheduleRule makes a scheduled EventBridge rule that runs td.
func scheduleRule(t *testing.T, w *world, td string) {
	t.Helper()
	eb := eventbridge.NewFromConfig(w.cfg)
	rule := awstest.Name(t, "nightly")
	if _, err := eb.PutRule(w.ctx, &eventbridge.PutRuleInput{Name: aws.String(rule), ScheduleExpression: aws.String("cron(0 3 * * ? *)")}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(w.ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule), Targets: []ebtypes.Target{{
		Id: aws.String("job"), Arn: aws.String("arn:aws:ecs:" + awstest.Region + ":" + awstest.AccountID + ":cluster/jobs"),
		RoleArn:       aws.String("arn:aws:iam::" + awstest.AccountID + ":role/events"),
		EcsParameters: &ebtypes.EcsParameters{TaskDefinitionArn: aws.String(td), TaskCount: aws.Int32(1)},
	}}}); err != nil {
		t.Fatal(err)
	}
}

// TestMotoMaxDefinitionsWithoutEventBridge: when the EventBridge rules
// cannot be read (access denied), no revision is deregistered, since one
// may be what a rule runs; the deployment still succeeds, with a warning
// that says why.
func TestMotoMaxDefinitionsWithoutEventBridge(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for range 4 {
		w.Register("v1", "1")
	}
	proxy, err := faultproxy.New(awstest.Endpoint(t), faultproxy.WithFaults(faultproxy.AccessDenied), faultproxy.WithRate(1),
		faultproxy.WithOperations("ListEventBuses", "ListRules", "ListTargetsByRule"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	var rec event.Recorder
	res, err := ecsdeploy.Deploy(w.ctx, proxy.Through(w.cfg, 3, 100*time.Millisecond), &rec,
		ecsdeploy.Input{TaskDefinition: w.ARN(4), Image: w.Repo + ":v5", MaxDefinitions: 1})
	if err != nil || res.Outcome != history.StatusSucceeded {
		t.Fatalf("Deploy: got %+v, %v; want success", res, err)
	}
	if len(res.Deregistered) != 0 {
		t.Errorf("deregistered %v, want nothing", res.Deregistered)
	}
	if got, want := w.Active(), []int{1, 2, 3, 4, 5}; !slices.Equal(got, want) {
		t.Errorf("ACTIVE revisions: got %v, want %v", got, want)
	}
	warns := rec.OfKind(event.Warning)
	if len(warns) != 1 || !contains(warns[0].Message, "could not read the EventBridge rules", "AccessDenied") {
		t.Errorf("warnings: got %+v, want one saying the EventBridge rules could not be read", warns)
	}
}

// TestMotoRefusals: what names a container the task definition lacks, or
// a repository no container runs, registers nothing (deploy.ErrInvalidInput).
func TestMotoRefusals(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cluster := w.Service("api", w.Register("v1", "1"))
	for _, in := range []ecsdeploy.Input{
		{Cluster: cluster, Service: "api", TagOnly: "v2", TagOnlyContainers: []string{"worker"}},
		{Cluster: cluster, Service: "api", Image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/other:v2"},
	} {
		if _, err := w.deploy(in); !errors.Is(err, deploy.ErrInvalidInput) {
			t.Errorf("Deploy %+v: got %v, want deploy.ErrInvalidInput", in, err)
		}
	}
	if got := w.Active(); !slices.Equal(got, []int{1}) {
		t.Errorf("ACTIVE revisions: got %v, want [1]", got)
	}
}
