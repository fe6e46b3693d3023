// Package tasklogs reads what a task's containers wrote to CloudWatch
// Logs with the awslogs driver: the last lines of a log stream, so that a
// one-off task that failed (a migration) can be explained with its own
// output. It is buoy's only way to CloudWatch Logs.
package tasklogs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// LogsAPI is the part of the CloudWatch Logs API that Reader calls.
// *cloudwatchlogs.Client satisfies it.
type LogsAPI interface {
	GetLogEvents(ctx context.Context, in *cloudwatchlogs.GetLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error)
}

var _ LogsAPI = (*cloudwatchlogs.Client)(nil)

// MaxLines is the most lines Tail returns, as GetLogEvents returns at
// most 10,000 events at once.
const MaxLines = 10000

// ErrNoStream says that a log stream (or its group) does not exist: the
// container wrote nothing yet, or never started.
var ErrNoStream = errors.New("no such log stream")

// Line is one log event.
type Line struct {
	Time    time.Time
	Message string
}

// Reader reads log streams. It is safe for concurrent use.
type Reader struct {
	client func(region string) LogsAPI
}

// New returns a Reader that calls api whatever the stream's Region.
func New(api LogsAPI) *Reader {
	return &Reader{client: func(string) LogsAPI { return api }}
}

// NewFromConfig returns a Reader that calls CloudWatch Logs with clients
// made from cfg, in cfg's Region unless a stream names another.
func NewFromConfig(cfg aws.Config) *Reader {
	return &Reader{client: func(region string) LogsAPI {
		return cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) {
			if region != "" {
				o.Region = region
			}
		})
	}}
}

// Stream names a log stream: its group, name, and Region ("" for the
// Reader's).
type Stream struct {
	Group  string
	Name   string
	Region string
}

// Tail returns the last n lines (at most MaxLines) of a stream, oldest
// first, with one GetLogEvents call. A stream or group that does not
// exist is ErrNoStream.
func (r *Reader) Tail(ctx context.Context, s Stream, n int) ([]Line, error) {
	if n <= 0 {
		return nil, nil
	}
	out, err := r.client(s.Region).GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{
		LogGroupName:  aws.String(s.Group),
		LogStreamName: aws.String(s.Name),
		StartFromHead: aws.Bool(false),
		Limit:         aws.Int32(int32(min(n, MaxLines))),
	})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return nil, fmt.Errorf("read log stream %s in group %s: %w", s.Name, s.Group, ErrNoStream)
	}
	if err != nil {
		return nil, fmt.Errorf("read log stream %s in group %s: %w", s.Name, s.Group, err)
	}
	lines := make([]Line, 0, len(out.Events))
	for _, e := range out.Events {
		lines = append(lines, Line{Time: time.UnixMilli(aws.ToInt64(e.Timestamp)).UTC(),
			Message: strings.TrimRight(aws.ToString(e.Message), "\r\n")})
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines, nil
}
