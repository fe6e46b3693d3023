package historytest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/history/historytest"
)

func TestFaulty(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := historytest.NewFaulty(history.NewMemory())
	rel := &history.Release{Project: "shop", Images: map[string]history.ImageRef{"api": {Repository: "shop/api", Digest: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}}}
	if err := f.PutRelease(ctx, rel); err != nil {
		t.Fatalf("PutRelease: %v", err)
	}

	f.SetDead(true)
	if err := f.PutRelease(ctx, &history.Release{Project: "shop"}); !errors.Is(err, historytest.ErrDied) {
		t.Errorf("PutRelease of a dead process: got %v, want ErrDied", err)
	}
	if _, err := f.AcquireLock(ctx, history.Lock{Project: "shop", Environment: "stage", Owner: "a"}, time.Minute); !errors.Is(err, historytest.ErrDied) {
		t.Errorf("AcquireLock of a dead process: got %v, want ErrDied", err)
	}
	if got, err := f.GetRelease(ctx, "shop", rel.ID); err != nil || got.ID != rel.ID {
		t.Errorf("GetRelease of a dead process: got %v, %v; want the release: reads pass", got, err)
	}

	f.SetDead(false)
	refused := errors.New("throttled")
	f.BeforeWrite(func(op string) error {
		if op == "AcquireLock" {
			return refused
		}
		return nil
	})
	if _, err := f.AcquireLock(ctx, history.Lock{Project: "shop", Environment: "stage", Owner: "a"}, time.Minute); !errors.Is(err, refused) {
		t.Errorf("AcquireLock refused by the hook: got %v, want its error", err)
	}
	if _, err := f.GetLock(ctx, "shop", "stage"); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("GetLock after a refused acquire: got %v, want ErrNotFound: the write never reached the store", err)
	}
	if err := f.PutRelease(ctx, &history.Release{Project: "shop", Images: rel.Images}); err != nil {
		t.Fatalf("PutRelease the hook lets pass: %v", err)
	}
	if got := f.Writes(); len(got) != 1 || got["PutRelease"] != 2 {
		t.Errorf("Writes: got %v, want the two PutRelease that reached the store", got)
	}
}
