//go:build integration

package e2e_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/internal/exitcode"
)

// recordOf is a deployment as its item in DynamoDB holds it, read with
// the AWS SDK.
type recordOf struct {
	ID, Status, RollbackOf string
	StartedAt, FinishedAt  time.Time
}

// TestMetricsFromRealRuns deploys on moto with the CLI: a release, then
// a newer build, then a `buoy rollback` of it; `buoy metrics` then says
// two changes, one of them a failure restored by the rollback, and lead
// times from each image's push, all as computed here from the records
// and ECR's push times read with the AWS SDK. An unknown environment or
// project, and a window that starts in the future, are bad input.
func TestMetricsFromRealRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bin := buildCLI(t)
	f := deployfixture.New(ctx, t, awstest.Config(t), deployfixture.Options{Images: 1})
	img := f.Images[0]
	env := cliEnv(t, awstest.Endpoint(t), "ci")
	deploy := func(args ...string) string {
		t.Helper()
		r := start(t, bin, env, append(args, "--manifest", f.Manifest, "--table", f.Table, "--environment", deployfixture.Environment, "--output", "json")...)
		if code := r.wait(t); code != exitcode.OK {
			t.Fatalf("buoy %s: exit %d\n%s", args[0], code, r.output())
		}
		var res struct{ Deployment string }
		if err := json.Unmarshal(r.stdout.Bytes(), &res); err != nil {
			t.Fatalf("buoy %s: %v\n%s", args[0], err, r.output())
		}
		return res.Deployment
	}
	first := deploy("release-deploy", "--timeout", "1m")
	newer := f.Push(ctx, t, img.Repository, "latest")
	second := deploy("release-deploy", "--timeout", "1m")
	back := deploy("rollback", "--yes", "--timeout", "1m")

	recs := readRecords(ctx, t, f.Table)
	pushed := pushTimes(ctx, t, img.Repository)
	if len(recs) != 3 || recs[back].RollbackOf != second || recs[first].Status != "succeeded" || recs[second].Status != "succeeded" || recs[back].Status != "succeeded" {
		t.Fatalf("records: got %+v, want %s and %s succeeded, and %s rolling back the second", recs, first, second, back)
	}
	leads := []float64{recs[first].FinishedAt.Sub(pushed[img.New]).Seconds(), recs[second].FinishedAt.Sub(pushed[newer]).Seconds()}
	restore := recs[back].FinishedAt.Sub(recs[second].StartedAt).Seconds()

	args := []string{"metrics", "--manifest", f.Manifest, "--table", f.Table, "--environment", deployfixture.Environment, "--since", "1h"}
	r := start(t, bin, env, append(args, "--output", "json")...)
	if code := r.wait(t); code != exitcode.OK {
		t.Fatalf("buoy metrics: exit %d\n%s", code, r.output())
	}
	var m struct {
		Since, Until      time.Time
		Deployments       struct{ Total, Succeeded, Rollbacks, Changes, SucceededChanges, ChangeFailures int }
		DeploymentsPerDay float64
		LeadTime          struct {
			Count                     int
			MedianSeconds, P90Seconds float64
		}
		ChangeFailureRate *float64
		TimeToRestore     struct {
			Count         int
			MedianSeconds float64
		}
		Unrestored int
	}
	if err := json.Unmarshal(r.stdout.Bytes(), &m); err != nil {
		t.Fatalf("buoy metrics: %v\n%s", err, r.output())
	}
	c := m.Deployments
	if c.Total != 3 || c.Succeeded != 3 || c.Rollbacks != 1 || c.Changes != 2 || c.SucceededChanges != 2 || c.ChangeFailures != 1 {
		t.Errorf("deployments: got %+v, want 3 succeeded, 1 a rollback, 2 changes, 1 of them a failure", c)
	}
	if m.ChangeFailureRate == nil || *m.ChangeFailureRate != 0.5 || m.Unrestored != 0 {
		t.Errorf("change failure rate: got %v (%d unrestored), want 0.5, restored", m.ChangeFailureRate, m.Unrestored)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 0.001 }
	window := m.Until.Sub(m.Since)
	if window < time.Hour || !near(m.DeploymentsPerDay, 2/(window.Hours()/24)) {
		t.Errorf("deployments a day: got %v over %s, want 2 changes over a window of an hour (to now)", m.DeploymentsPerDay, window)
	}
	if m.LeadTime.Count != 2 || !near(m.LeadTime.MedianSeconds, (leads[0]+leads[1])/2) || !near(m.LeadTime.P90Seconds, max(leads[0], leads[1])) {
		t.Errorf("lead time: got %+v, want 2, the median of %v and the 90th percentile their greater", m.LeadTime, leads)
	}
	if m.TimeToRestore.Count != 1 || !near(m.TimeToRestore.MedianSeconds, restore) {
		t.Errorf("time to restore: got %+v, want 1 of %vs, from the second's start to the rollback's end", m.TimeToRestore, restore)
	}

	text := start(t, bin, env, args...)
	if code := text.wait(t); code != exitcode.OK || !strings.Contains(text.stdout.String(), "Change failure rate    50% (1 of 2 changes)") {
		t.Errorf("buoy metrics: exit %d, want the figures in words\n%s", code, text.output())
	}

	for _, bad := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown environment", []string{"--environment", "nope"}, `has no environment "nope"`},
		{"unknown project", []string{"--environment", deployfixture.Environment, "--project", "nope"}, `"nope"`},
		{"a window in the future", []string{"--environment", deployfixture.Environment, "--since", "2099-01-01"}, "that is not in the past"},
	} {
		r := start(t, bin, env, append([]string{"metrics", "--manifest", f.Manifest, "--table", f.Table}, bad.args...)...)
		if code := r.wait(t); code != exitcode.BadInput || !strings.Contains(r.stderr.String(), bad.want) {
			t.Errorf("%s: exit %d, want %d saying %q\n%s", bad.name, code, exitcode.BadInput, bad.want, r.output())
		}
	}
}

// readRecords reads the deployment records of table with the AWS SDK,
// by id.
func readRecords(ctx context.Context, t *testing.T, table string) map[string]recordOf {
	t.Helper()
	out, err := dynamodb.NewFromConfig(awstest.Config(t)).Scan(ctx, &dynamodb.ScanInput{TableName: &table,
		FilterExpression:          aws.String("kind = :k"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":k": &ddbtypes.AttributeValueMemberS{Value: "deployment"}}})
	if err != nil {
		t.Fatalf("scan the history: %v", err)
	}
	recs := map[string]recordOf{}
	for _, it := range out.Items {
		data, _ := it["data"].(*ddbtypes.AttributeValueMemberS)
		var r recordOf
		if data == nil || json.Unmarshal([]byte(data.Value), &r) != nil {
			t.Fatalf("a deployment item holds no record: %v", it)
		}
		recs[r.ID] = r
	}
	return recs
}

// pushTimes reads when each image of repository was pushed, as ECR tells
// it, by digest.
func pushTimes(ctx context.Context, t *testing.T, repository string) map[string]time.Time {
	t.Helper()
	out, err := ecr.NewFromConfig(awstest.Config(t)).DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: &repository})
	if err != nil {
		t.Fatalf("describe the images of %s: %v", repository, err)
	}
	times := map[string]time.Time{}
	for _, d := range out.ImageDetails {
		times[*d.ImageDigest] = *d.ImagePushedAt
	}
	return times
}
