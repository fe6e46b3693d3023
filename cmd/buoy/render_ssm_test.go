package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/golden"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// TestPrintSSMEraGolden: for a project whose images are kept in SSM, the
// deployment table names the parameters written instead of tags, and the
// status compares the record with what SSM holds.
func TestPrintSSMEraGolden(t *testing.T) {
	t.Parallel()
	const repo = "760097843905.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/bag_register"
	res := &deploy.Result{
		Project: "storage", Environment: "stage", Status: history.StatusSucceeded,
		Release:    &history.Release{ID: "01JD3QX7Z8M4N5P6Q7R8S9T0VW"},
		Deployment: &history.Deployment{ID: "01JD3QX80000000000000000AA"},
		Started:    t0, Finished: t0.Add(2 * time.Second),
		Images: []deploy.ImageResult{
			{Image: "bag_register", Repository: repo, Parameter: "/storage/images/stage/bag_register", To: "sha256:580466ef65191bd0a2e1", Moved: true},
			{Image: "notifier", Repository: repo, Parameter: "/storage/images/stage/notifier", From: "sha256:851236b875c3ffee", To: "sha256:851236b875c3ffee"},
		},
		Stats: map[string]int{"SSM.GetParameters": 1, "SSM.PutParameter": 1},
	}
	rep := &deploy.StatusReport{Project: "storage", Environments: []deploy.EnvironmentStatus{
		{Environment: "stage", State: deploy.Agrees, Current: &history.Current{ReleaseID: "01JD3QX7Z8M4N5P6Q7R8S9T0VW", DeploymentID: "01JD3QX80000000000000000AA", UpdatedAt: t0},
			Images: []deploy.ImageStatus{
				{Image: "bag_register", Repository: repo, Parameter: "/storage/images/stage/bag_register", Recorded: "sha256:580466ef65191bd0a2e1", Published: repo + "@sha256:580466ef65191bd0a2e1" + strings.Repeat("0", 44)},
			}},
		{Environment: "prod", State: deploy.Drifted, Drift: []string{"nothing was ever deployed here by buoy"},
			Images: []deploy.ImageStatus{
				{Image: "bag_register", Repository: repo, Parameter: "/storage/images/prod/bag_register", Published: repo + ":ref.1111"},
			}},
	}}
	var b bytes.Buffer
	if err := printResult(&b, "text", "release-deploy", res, nil); err != nil {
		t.Fatal(err)
	}
	b.WriteString("\n")
	printStatus(&b, rep)
	golden.Check(t, "testdata/ssm-era.txt", b.String())
}
