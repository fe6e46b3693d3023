//go:build integration

package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
)

// sideRepo is the image repository of every side-by-side world, the same
// for both tools so that their images compare equal.
const sideRepo = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api"

// sideWorld is one tool's world on moto: a cluster running service api
// on revision 1 of a family of its own (more revisions when asked), built
// the same way for both tools.
type sideWorld struct {
	cluster, family, service string
}

// newSideWorld builds a world: a Fargate task definition that sets what
// a copy can drop (task CPU and memory, roles, network mode, volumes,
// placement constraints, a sidecar, tags), registered revisions times,
// and a service running revision 1 (named after the family when
// serviceIsFamily, for ecs-deploy-py's search of a service by -d).
func newSideWorld(ctx context.Context, t *testing.T, client *ecs.Client, tool string, revisions int, serviceIsFamily bool) sideWorld {
	t.Helper()
	w := sideWorld{cluster: awstest.Name(t, tool), family: awstest.Name(t, tool+"-api"), service: "api"}
	if serviceIsFamily {
		w.service = w.family
	}
	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(w.cluster)}); err != nil {
		t.Fatal(err)
	}
	var first string
	for range revisions {
		out, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String(w.family), Cpu: aws.String("512"), Memory: aws.String("1024"),
			NetworkMode: ecstypes.NetworkModeAwsvpc, RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
			ExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/exec"), TaskRoleArn: aws.String("arn:aws:iam::123456789012:role/task"),
			Volumes:              []ecstypes.Volume{{Name: aws.String("scratch")}},
			PlacementConstraints: []ecstypes.TaskDefinitionPlacementConstraint{{Type: ecstypes.TaskDefinitionPlacementConstraintTypeMemberOf, Expression: aws.String("attribute:ecs.os-type == linux")}},
			ContainerDefinitions: []ecstypes.ContainerDefinition{
				{Name: aws.String("api"), Image: aws.String(sideRepo + ":v1"), Memory: aws.Int32(512), Essential: aws.Bool(true),
					Environment:  []ecstypes.KeyValuePair{{Name: aws.String("A"), Value: aws.String("1")}},
					PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(8080)}}},
				{Name: aws.String("log-router"), Image: aws.String("public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"), Memory: aws.Int32(64), Essential: aws.Bool(false)},
			},
			Tags: []ecstypes.Tag{{Key: aws.String("team"), Value: aws.String("shop")}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if first == "" {
			first = aws.ToString(out.TaskDefinition.TaskDefinitionArn)
		}
	}
	if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(w.cluster), ServiceName: aws.String(w.service),
		TaskDefinition: aws.String(first), DesiredCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	return w
}

// sideState is what a run left, read with the AWS SDK and flattened to
// path = value, with the world's own names replaced by {cluster} and
// {family}: the newest ACTIVE revision of the family (every field of
// DescribeTaskDefinition, and its tags), the service, and which revisions
// are ACTIVE.
type sideState struct {
	taskDefinition, service map[string]string
	active                  []int
}

// volatile are the fields that differ between any two runs, whatever
// the tool: when the revision was registered and by whom, and the ids,
// times and events of ECS deployments.
var volatile = []string{"RegisteredAt", "RegisteredBy", "CreatedAt", "UpdatedAt", "Events", "Id", "RolloutStateReason"}

func readSideState(ctx context.Context, t *testing.T, client *ecs.Client, w sideWorld) sideState {
	t.Helper()
	td, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(w.family),
		Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
	if err != nil {
		t.Fatalf("describe the newest revision of %s: %v", w.family, err)
	}
	svc, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(w.cluster), Services: []string{w.service}})
	if err != nil || len(svc.Services) != 1 {
		t.Fatalf("describe service %s: %v", w.service, err)
	}
	list, err := client.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(w.family), Status: ecstypes.TaskDefinitionStatusActive})
	if err != nil {
		t.Fatal(err)
	}
	var active []int
	for _, arn := range list.TaskDefinitionArns {
		var rev int
		if _, err := fmt.Sscanf(arn[strings.LastIndex(arn, ":")+1:], "%d", &rev); err == nil && strings.Contains(arn, "/"+w.family+":") {
			active = append(active, rev)
		}
	}
	slices.Sort(active)
	names := strings.NewReplacer(w.cluster, "{cluster}", w.family, "{family}")
	return sideState{
		taskDefinition: flatten(t, names, struct {
			TaskDefinition *ecstypes.TaskDefinition
			Tags           []ecstypes.Tag
		}{td.TaskDefinition, td.Tags}),
		service: flatten(t, names, svc.Services[0]),
		active:  active,
	}
}

// flatten turns v (an SDK struct) into path = JSON value, names
// replaced, volatile fields left out.
func flatten(t *testing.T, names *strings.Replacer, v any) map[string]string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var tree any
	if err := json.Unmarshal([]byte(names.Replace(string(b))), &tree); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(path string, n any)
	walk = func(path string, n any) {
		switch n := n.(type) {
		case map[string]any:
			for k, v := range n {
				if slices.Contains(volatile, k) {
					continue
				}
				walk(strings.TrimPrefix(path+"."+k, "."), v)
			}
		case []any:
			if len(n) == 0 {
				out[path] = "[]"
			}
			for i, v := range n {
				walk(fmt.Sprintf("%s[%d]", path, i), v)
			}
		default:
			b, _ := json.Marshal(n)
			out[path] = string(b)
		}
	}
	walk("", tree)
	return out
}

// differences lists the paths whose values differ between a and b, with
// both values.
func differences(a, b map[string]string) map[string][2]string {
	out := map[string][2]string{}
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if a[k] != b[k] {
			out[k] = [2]string{a[k], b[k]}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(b)) {
		if _, ok := a[k]; !ok {
			out[k] = [2]string{"", b[k]}
		}
	}
	return out
}

// ecsDeployPy returns the path of ecs-deploy-py in the repository's
// .venv, where scripts/with-moto installs it, pinned; it fails the test
// when it is missing.
func ecsDeployPy(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(filepath.Dir(file), "..", "..", ".venv", "bin", "ecs-deploy-py")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("ecs-deploy-py is not installed (%v): run the tests through scripts/with-moto (make test does), which installs it into .venv/", err)
	}
	return bin
}
