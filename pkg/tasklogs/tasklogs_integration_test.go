//go:build integration

package tasklogs_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/pkg/tasklogs"
)

// TestMotoTail writes 30 lines to a stream on moto and reads back the
// last 5, oldest first, with their times; a stream that does not exist
// is ErrNoStream.
func TestMotoTail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := awstest.Config(t)
	client := cloudwatchlogs.NewFromConfig(cfg)
	group, stream := "/ecs/"+awstest.Name(t, "migrate"), "ecs/app/0123456789abcdef"
	if _, err := client.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond).UTC()
	var events []types.InputLogEvent
	for i := range 30 {
		events = append(events, types.InputLogEvent{Timestamp: aws.Int64(t0.Add(time.Duration(i) * time.Second).UnixMilli()),
			Message: aws.String(fmt.Sprintf("line %02d\n", i))})
	}
	if _, err := client.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: events}); err != nil {
		t.Fatal(err)
	}

	r := tasklogs.NewFromConfig(cfg)
	lines, err := r.Tail(ctx, tasklogs.Stream{Group: group, Name: stream}, 5)
	if err != nil {
		t.Fatalf("Tail: %v", err)
	}
	var got []string
	for _, l := range lines {
		got = append(got, l.Message)
	}
	if want := []string{"line 25", "line 26", "line 27", "line 28", "line 29"}; !slices.Equal(got, want) {
		t.Errorf("lines: got %q, want %q", got, want)
	}
	if len(lines) == 5 && !lines[4].Time.Equal(t0.Add(29*time.Second)) {
		t.Errorf("last line's time: got %s, want %s", lines[4].Time, t0.Add(29*time.Second))
	}

	_, err = r.Tail(ctx, tasklogs.Stream{Group: group, Name: "ecs/app/nothing"}, 5)
	if !errors.Is(err, tasklogs.ErrNoStream) {
		t.Errorf("a missing stream: got %v, want ErrNoStream", err)
	}
}
