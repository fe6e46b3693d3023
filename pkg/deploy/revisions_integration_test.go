//go:build integration

package deploy_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// TestMotoKeepRevisions deploys, with the task-definition strategy and
// keep_revisions: 2, a service whose family has revisions 1 (what the
// service runs) to 5, of which a service of another cluster runs 3 and a
// scheduled EventBridge rule runs 2. The deployment registers 6 (the
// images pinned) and, after its rollout succeeded, deregisters only 4:
// 6 and 5 are the newest, 1 what the service ran, 3 and 2 in use. moto,
// asked with the SDK, says so.
func TestMotoKeepRevisions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := awstest.EveryResourceConfig(t)
	w := deployfixture.OneService(t, "keep", awstest.Name(t, "history"), "", "")
	w.Environments[0].YAML = []string{"strategy: task-definition", "keep_revisions: 2"}
	f := deployfixture.Start(ctx, t, cfg, w)
	client := ecs.NewFromConfig(cfg)
	family := deployfixture.Family(f.Cluster, "api")
	arn := func(rev int) string {
		return fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%d", awstest.Region, awstest.AccountID, family, rev)
	}
	for range 4 {
		if _, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(family),
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("api"), Memory: aws.Int32(256),
				Image: aws.String(deployfixture.URI(w.Images[0].Repository) + ":env.stage")}}}); err != nil {
			t.Fatal(err)
		}
	}
	awstest.NewFamily(t, client, "other").Service("other", arn(3))
	putScheduledRule(ctx, t, cfg, arn(2))

	var rec event.Recorder
	d, _, err := deploy.Open(ctx, deploy.Config{ManifestPath: f.Manifest, Table: f.Table, AWS: cfg, Sink: &rec,
		Options: []deploy.Option{deploy.WithPollInterval(100 * time.Millisecond), deploy.WithLockWait(0)}})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	res, err := d.ReleaseDeploy(ctx, deploy.ReleaseDeployInput{Request: deploy.Request{Environment: "stage", RequestedBy: "ci", Timeout: 2 * time.Minute}})
	if err != nil || res.Status != history.StatusSucceeded {
		t.Fatalf("ReleaseDeploy: %v, %v; want success", res, err)
	}
	// moto keeps the deployment's task definition when an update changes
	// it, but not the service's: read that.
	svc, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(f.Cluster), Services: []string{w.ServiceName("api")}})
	if err != nil || len(svc.Services) != 1 {
		t.Fatalf("describe the service: %v", err)
	}
	if got := aws.ToString(svc.Services[0].TaskDefinition); got != arn(6) {
		t.Errorf("the service runs %s, want %s", got, arn(6))
	}
	list, err := client.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(family), Status: ecstypes.TaskDefinitionStatusActive})
	if err != nil {
		t.Fatal(err)
	}
	var active []string
	for _, a := range list.TaskDefinitionArns {
		active = append(active, a[strings.LastIndex(a, ":")+1:])
	}
	slices.Sort(active)
	if want := []string{"1", "2", "3", "5", "6"}; !slices.Equal(active, want) {
		t.Errorf("ACTIVE revisions, as moto says: got %v, want %v", active, want)
	}
	var said []string
	for _, e := range rec.OfKind(event.Progress) {
		if strings.HasPrefix(e.Message, "deregistered") {
			said = append(said, e.Message)
		}
	}
	if want := []string{"deregistered old revision " + family + ":4 (keep_revisions: 2)"}; !slices.Equal(said, want) {
		t.Errorf("events: got %q, want %q", said, want)
	}
}

// putScheduledRule makes a scheduled EventBridge rule that runs td.
func putScheduledRule(ctx context.Context, t *testing.T, cfg aws.Config, td string) {
	t.Helper()
	eb := eventbridge.NewFromConfig(cfg)
	rule := awstest.Name(t, "nightly")
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(rule), ScheduleExpression: aws.String("rate(1 day)")}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule), Targets: []ebtypes.Target{{
		Id: aws.String("job"), Arn: aws.String("arn:aws:ecs:" + awstest.Region + ":" + awstest.AccountID + ":cluster/jobs"),
		RoleArn:       aws.String("arn:aws:iam::" + awstest.AccountID + ":role/events"),
		EcsParameters: &ebtypes.EcsParameters{TaskDefinitionArn: aws.String(td), TaskCount: aws.Int32(1)},
	}}}); err != nil {
		t.Fatal(err)
	}
}
