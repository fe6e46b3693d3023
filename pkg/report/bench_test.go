package report_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/report"
)

// bigResult is a finished deployment of n images feeding n services.
func bigResult(n int) *deploy.Result {
	start := time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)
	r := &deploy.Result{Project: "big", Environment: "stage", Status: history.StatusSucceeded,
		Release: &history.Release{ID: "01JD0000000000000000000000"}, Deployment: &history.Deployment{ID: "01JD0000010000000000000000"},
		Started: start, Finished: start.Add(3 * time.Minute), Stats: map[string]int{"ECS.UpdateService": n, "ECR.PutImage": n}}
	for i := range n {
		id := fmt.Sprintf("img%03d", i)
		r.Images = append(r.Images, deploy.ImageResult{Image: id, Repository: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/big/" + id,
			Tag: "env.stage", From: d1, To: d2, Moved: true})
		r.Services = append(r.Services, deploy.ServiceResult{Service: "svc-" + id, Cluster: "big-stage", Region: "eu-west-1",
			Images: []string{id}, Outcome: history.StatusSucceeded, Duration: 95 * time.Second,
			TaskDefinition: "arn:aws:ecs:eu-west-1:123456789012:task-definition/svc-" + id + ":7", ECSDeployment: "ecs-svc/123456789"})
	}
	return r
}

// BenchmarkMarkdown200 renders the job summary of a deployment of 200
// services.
func BenchmarkMarkdown200(b *testing.B) {
	r := bigResult(200)
	b.ReportAllocs()
	for b.Loop() {
		if md := report.Markdown("release-deploy", r); len(md) == 0 {
			b.Fatal("empty summary")
		}
	}
}
