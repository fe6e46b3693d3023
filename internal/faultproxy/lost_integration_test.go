//go:build integration

package faultproxy_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/faultproxy"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/registry"
)

// TestHistoryWritesSurviveLostResponses: DynamoDB applied a write but its
// answer was lost (the connection dropped after the request arrived), so
// the SDK's retryer sends the same conditional write again, and that
// second attempt fails its condition because the first one succeeded. The
// store must recognise its own write and report success; reporting
// ErrExists or ErrConflict makes a deployment that was recorded look as
// if it was not, or stops a run whose record is in fact up to date.
//
// Each subtest loses exactly the first PutItem/DeleteItem answer.
func TestHistoryWritesSurviveLostResponses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lose := func(ops ...string) []faultproxy.Option {
		return []faultproxy.Option{faultproxy.WithRate(0), faultproxy.WithLimit(1),
			faultproxy.WithFaults(faultproxy.LostResponse), faultproxy.WithOperations(ops...)}
	}
	release := func() *history.Release {
		return &history.Release{Project: "lost", RequestedBy: "ci", Label: "latest",
			Images: map[string]history.ImageRef{"api": {Repository: "api", Tag: "latest", Digest: "sha256:" + strings.Repeat("a", 64)}}}
	}
	deployment := func() *history.Deployment {
		return &history.Deployment{Project: "lost", Environment: "prod", ReleaseID: "r1", RequestedBy: "ci"}
	}
	lock := history.Lock{Project: "lost", Environment: "prod", Owner: "run-1", RequestedBy: "ci"}

	tests := []struct {
		name string
		run  func(t *testing.T, p *faultproxy.Proxy, s history.Store) error
	}{
		{"PutRelease", func(t *testing.T, p *faultproxy.Proxy, s history.Store) error {
			p.SetRate(1)
			return s.PutRelease(ctx, release())
		}},
		{"CreateDeployment", func(t *testing.T, p *faultproxy.Proxy, s history.Store) error {
			p.SetRate(1)
			return s.CreateDeployment(ctx, deployment())
		}},
		{"UpdateDeployment", func(t *testing.T, p *faultproxy.Proxy, s history.Store) error {
			d := deployment()
			if err := s.CreateDeployment(ctx, d); err != nil {
				t.Fatalf("CreateDeployment: %v", err)
			}
			d.Status, d.FinishedAt = history.StatusSucceeded, time.Now()
			p.SetRate(1)
			if err := s.UpdateDeployment(ctx, d); err != nil {
				return err
			}
			if d.Version != 2 {
				t.Errorf("version after one update: got %d, want 2", d.Version)
			}
			return nil
		}},
		{"SetCurrent", func(t *testing.T, p *faultproxy.Proxy, s history.Store) error {
			p.SetRate(1)
			return s.SetCurrent(ctx, &history.Current{Project: "lost", Environment: "prod", ReleaseID: "r1", DeploymentID: "d1",
				Images: map[string]history.ImageRef{"api": {Repository: "api", Digest: "sha256:" + strings.Repeat("a", 64)}}})
		}},
		{"AcquireLock", func(t *testing.T, p *faultproxy.Proxy, s history.Store) error {
			p.SetRate(1)
			_, err := s.AcquireLock(ctx, lock, time.Minute)
			return err
		}},
		{"RenewLock", func(t *testing.T, p *faultproxy.Proxy, s history.Store) error {
			held, err := s.AcquireLock(ctx, lock, time.Minute)
			if err != nil {
				t.Fatalf("AcquireLock: %v", err)
			}
			p.SetRate(1)
			return s.RenewLock(ctx, held, time.Minute)
		}},
		{"TakeOverLock", func(t *testing.T, p *faultproxy.Proxy, s history.Store) error {
			if _, err := s.AcquireLock(ctx, lock, time.Minute); err != nil {
				t.Fatalf("AcquireLock: %v", err)
			}
			other := lock
			other.Owner = "run-2"
			_, err := s.AcquireLock(ctx, other, time.Minute)
			var locked *history.LockedError
			if !errors.As(err, &locked) {
				t.Fatalf("AcquireLock of a held lock: got %v, want a *LockedError", err)
			}
			p.SetRate(1)
			got, err := s.TakeOverLock(ctx, other, time.Minute, locked.Held)
			if err == nil && (got.Owner != "run-2" || got.Previous == nil || got.Previous.Owner != "run-1") {
				t.Errorf("TakeOverLock: got %+v, want run-2's lock, taken over from run-1", got)
			}
			return err
		}},
		{"BreakLock", func(t *testing.T, p *faultproxy.Proxy, s history.Store) error {
			held, err := s.AcquireLock(ctx, lock, time.Minute)
			if err != nil {
				t.Fatalf("AcquireLock: %v", err)
			}
			p.SetRate(1)
			if err := s.BreakLock(ctx, &history.Unlock{Project: "lost", Environment: "prod", RequestedBy: "ops", Reason: "stuck", Freed: *held}); err != nil {
				return err
			}
			if us, err := s.ListUnlocks(ctx, "lost", "prod", 0); err != nil || len(us) != 1 {
				t.Errorf("unlock records after one BreakLock: got %d, %v; want 1", len(us), err)
			}
			return nil
		}},
		{"ReleaseLock", func(t *testing.T, p *faultproxy.Proxy, s history.Store) error {
			held, err := s.AcquireLock(ctx, lock, time.Minute)
			if err != nil {
				t.Fatalf("AcquireLock: %v", err)
			}
			p.SetRate(1)
			return s.ReleaseLock(ctx, held)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, s := newStore(t, lose("PutItem", "DeleteItem", "TransactWriteItems"))
			if err := tc.run(t, p, s); err != nil {
				t.Errorf("%s after a lost answer: got %v, want success (the write was applied)", tc.name, err)
			}
			if got := p.Injected()[faultproxy.LostResponse]; got != 1 {
				t.Errorf("lost answers: got %d, want 1", got)
			}
		})
	}
}

// TestPointTagSurvivesALostAnswer: ECR applied the PutImage that moves the
// tag but the answer was lost; the retry is refused (the image already has
// the tag) and PointTag must still report success, from the old digest to
// the new. It reports Moved false, as when a concurrent run moved the tag
// (TestPointTagRace): from outside ECR the two cases look the same.
func TestPointTagSurvivesALostAnswer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	direct := ecr.NewFromConfig(awstest.Config(t))
	repos, digests := images(ctx, t, direct, 1)
	p, cfg := proxied(t, faultproxy.WithRate(1), faultproxy.WithLimit(1),
		faultproxy.WithFaults(faultproxy.LostResponse), faultproxy.WithOperations("PutImage"))
	move, err := registry.New(ecr.NewFromConfig(cfg)).PointTag(ctx, registry.PointTagInput{Repository: repos[0], Tag: "env.stage", Digest: digests[0]})
	if err != nil {
		t.Fatalf("PointTag after a lost answer: %v", err)
	}
	if move.To != digests[0] || move.From == "" || move.From == digests[0] {
		t.Errorf("move: got from %q to %q, want from the old digest to %s", move.From, move.To, digests[0])
	}
	if got := tagDigest(ctx, t, direct, repos[0], "env.stage"); got != digests[0] {
		t.Errorf("env.stage points at %s, want %s", got, digests[0])
	}
	if got := p.Injected()[faultproxy.LostResponse]; got != 1 {
		t.Errorf("lost answers: got %d, want 1", got)
	}
}
