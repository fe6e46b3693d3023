//go:build integration

package rollout_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// TestMotoCleanupKeepsWhatAnyClusterUses registers revisions 1 to 9 of a
// family on moto; a service of one cluster runs revision 2, a service of
// another revision 4, a task of no service in a third revision 5, and
// the caller names 6 and 1 (its previous revision, and what an
// EventBridge rule runs). Keeping 2, Cleanup deregisters only 7 and 3,
// and moto, asked with the SDK, says so: the others are still ACTIVE.
func TestMotoCleanupKeepsWhatAnyClusterUses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := ecs.NewFromConfig(awstest.EveryResourceConfig(t))
	family := awstest.Name(t, "app")
	arn := func(rev int) string {
		return fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%d", awstest.Region, awstest.AccountID, family, rev)
	}
	for range 9 {
		if _, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(family),
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("repo/app:v1"), Memory: aws.Int32(256)}}}); err != nil {
			t.Fatal(err)
		}
	}
	cluster := func(name string) string {
		name = awstest.Name(t, name)
		if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		return name
	}
	for rev, c := range map[int]string{2: cluster("web"), 4: cluster("workers")} {
		if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(c), ServiceName: aws.String(awstest.Name(t, "svc")),
			TaskDefinition: aws.String(arn(rev)), DesiredCount: aws.Int32(1)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(cluster("jobs")), TaskDefinition: aws.String(arn(5)),
		LaunchType: types.LaunchTypeFargate}); err != nil {
		t.Fatal(err)
	}

	r := rollout.New(client, rollout.WithClock(clocktest.NewAuto(time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC))))
	gone, err := r.Cleanup(ctx, rollout.CleanupInput{Family: family, Keep: 2, InUse: []string{arn(6), arn(1)}})
	if err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	if want := []string{arn(7), arn(3)}; !slices.Equal(gone, want) {
		t.Errorf("deregistered: got %v, want %v", shortNames(gone), shortNames(want))
	}
	active, err := client.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(family), Status: types.TaskDefinitionStatusActive})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{arn(1), arn(2), arn(4), arn(5), arn(6), arn(8), arn(9)}
	if got := active.TaskDefinitionArns; !slices.Equal(got, want) {
		t.Errorf("ACTIVE after the cleanup, as moto says: got %v, want %v", shortNames(got), shortNames(want))
	}
}
