package tasklogs_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/buoy-deploy/buoy/pkg/tasklogs"
)

// TestTailAsksTheStreamsRegion: a stream in another Region (the awslogs-
// region option) is read there, the others in the configuration's; the
// request asks for the latest events, no more than wanted.
func TestTailAsksTheStreamsRegion(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var scopes, bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, cred, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
		cred, _, _ = strings.Cut(cred, ",")
		mu.Lock()
		scopes = append(scopes, cred[strings.Index(cred, "/")+1:])
		bodies = append(bodies, string(body))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = io.WriteString(w, `{"events":[{"timestamp":1767348000000,"message":"done\n"}]}`)
	}))
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")}
	r := tasklogs.NewFromConfig(cfg)
	for _, region := range []string{"eu-central-1", ""} {
		lines, err := r.Tail(context.Background(), tasklogs.Stream{Group: "/ecs/migrate", Name: "ecs/app/1", Region: region}, 20)
		if err != nil || len(lines) != 1 || lines[0].Message != "done" {
			t.Fatalf("Tail: got %v, %v; want the line done", lines, err)
		}
	}
	for i, want := range []string{"/eu-central-1/logs/aws4_request", "/eu-west-1/logs/aws4_request"} {
		if !strings.HasSuffix(scopes[i], want) {
			t.Errorf("call %d signed for %s, want %s", i+1, scopes[i], want)
		}
		for _, field := range []string{`"startFromHead":false`, `"limit":20`, `"logGroupName":"/ecs/migrate"`, `"logStreamName":"ecs/app/1"`} {
			if !strings.Contains(bodies[i], field) {
				t.Errorf("call %d: request %s lacks %s", i+1, bodies[i], field)
			}
		}
	}
}
