package main

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// bigResult is a finished deployment of n images feeding n services.
func bigResult(n int) *deploy.Result {
	start := time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)
	digest := func(c byte) string { return "sha256:" + fmt.Sprintf("%064d", int(c)) }
	r := &deploy.Result{Project: "big", Environment: "stage", Status: history.StatusSucceeded,
		Release:    &history.Release{ID: "01JD0000000000000000000000", Images: map[string]history.ImageRef{}},
		Deployment: &history.Deployment{ID: "01JD0000010000000000000000"},
		Started:    start, Finished: start.Add(3 * time.Minute), Stats: map[string]int{"ECS.UpdateService": n, "ECR.PutImage": n}}
	for i := range n {
		id := fmt.Sprintf("img%03d", i)
		repo := "123456789012.dkr.ecr.eu-west-1.amazonaws.com/big/" + id
		r.Release.Images[id] = history.ImageRef{Repository: repo, Tag: "latest", Digest: digest(2)}
		r.Images = append(r.Images, deploy.ImageResult{Image: id, Repository: repo, Tag: "env.stage", From: digest(1), To: digest(2), Moved: true})
		r.Services = append(r.Services, deploy.ServiceResult{Service: "svc-" + id, Cluster: "big-stage", Region: "eu-west-1",
			Images: []string{id}, Outcome: history.StatusSucceeded, Duration: 95 * time.Second,
			TaskDefinition: "arn:aws:ecs:eu-west-1:123456789012:task-definition/svc-" + id + ":7", ECSDeployment: "ecs-svc/123456789"})
	}
	return r
}

// BenchmarkPrintResult200 renders the final report of a deployment of
// 200 services as the table and as --output json.
func BenchmarkPrintResult200(b *testing.B) {
	r := bigResult(200)
	for _, output := range []string{"text", "json"} {
		b.Run(output, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := printResult(io.Discard, output, "release-deploy", r, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
