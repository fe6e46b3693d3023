package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/golden"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// sampleStatus is a status report with one environment in each state:
// stage drifted (a tag moved by hand), qa agreeing, prod unknown (its
// tasks reported no digest).
func sampleStatus(rel *history.Release, dep *history.Deployment) *deploy.StatusReport {
	cur := func(env string) *history.Current {
		return &history.Current{Project: "shop", Environment: env, ReleaseID: rel.ID, DeploymentID: dep.ID,
			UpdatedAt: t0.Add(83 * time.Second), Images: rel.Images, Version: 2}
	}
	image := func(env, tagged string) []deploy.ImageStatus {
		return []deploy.ImageStatus{{Image: "web", Repository: "shop/web", Tag: "env." + env, Recorded: "sha256:580466ef65191bd0a2e1", Tagged: tagged}}
	}
	service := func(env string, state deploy.Agreement, digests []string, unreported []string) []deploy.ServiceStatus {
		return []deploy.ServiceStatus{{Service: "web", Cluster: "shop-" + env, Region: "eu-west-1",
			TaskDefinition: "arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-web:8", Running: 2, Desired: 2, State: state,
			Digests: map[string][]string{"web": digests}, Unreported: unreported}}
	}
	return &deploy.StatusReport{Project: "shop", Environments: []deploy.EnvironmentStatus{
		{Environment: "stage", State: deploy.Drifted, Current: cur("stage"), Release: rel,
			Images:   image("stage", "sha256:9d8c7b6a5f4e3d2c"),
			Services: service("stage", deploy.Agrees, []string{"sha256:580466ef65191bd0a2e1"}, nil),
			Drift:    []string{"shop/web:env.stage points at 9d8c7b6a5f4e, but release 01JD3QX7Z8M4N5P6Q7R8S9T0VW pins 580466ef6519"},
			Unknown:  []string{}},
		{Environment: "qa", State: deploy.Agrees, Current: cur("qa"), Release: rel,
			Images:   image("qa", "sha256:580466ef65191bd0a2e1"),
			Services: service("qa", deploy.Agrees, []string{"sha256:580466ef65191bd0a2e1"}, nil),
			Drift:    []string{}, Unknown: []string{}},
		{Environment: "prod", State: deploy.Unknown, Current: cur("prod"), Release: rel,
			Images:   image("prod", "sha256:580466ef65191bd0a2e1"),
			Services: service("prod", deploy.Unknown, []string{}, []string{"web"}),
			Drift:    []string{},
			Unknown:  []string{"service web: none of its 2 running tasks reported a digest for web, so ECS did not say what it runs"}},
	}, Stats: map[string]int{"DynamoDB.GetItem": 2, "ECR.BatchGetImage": 1}}
}

// TestPrintStatusGolden: the text form of status says per service and
// per environment whether the record, the tags and ECS agree, drifted,
// or are unknown; an environment whose tasks reported no digest is never
// said to agree.
func TestPrintStatusGolden(t *testing.T) {
	t.Parallel()
	rel := &history.Release{ID: "01JD3QX7Z8M4N5P6Q7R8S9T0VW", Project: "shop", Label: "ref.3f2a9c1e",
		Images: map[string]history.ImageRef{"web": {Repository: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web", Digest: "sha256:580466ef65191bd0a2e1"}}}
	var b bytes.Buffer
	printStatus(&b, sampleStatus(rel, &history.Deployment{ID: "01JD3QX80000000000000000AA"}))
	golden.Check(t, "testdata/status.text", b.String())
}
