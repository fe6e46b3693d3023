package history_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/buoy-deploy/buoy/pkg/history"
)

// A deployment is recorded before anything changes and updated as it
// goes; the lock keeps a second pipeline out meanwhile.
func ExampleStore() {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)
	var store history.Store = history.NewMemory(history.WithClock(func() time.Time { return now }))

	lock, err := store.AcquireLock(ctx, history.Lock{Project: "search", Environment: "prod", Owner: "run-1", RequestedBy: "alice"}, 10*time.Minute)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = store.ReleaseLock(ctx, lock) }()

	_, err = store.AcquireLock(ctx, history.Lock{Project: "search", Environment: "prod", Owner: "run-2", RequestedBy: "bob"}, 10*time.Minute)
	fmt.Println(err)

	rel := &history.Release{Project: "search", Label: "latest", Images: map[string]history.ImageRef{
		"api": {Repository: "uk.ac.wellcome/api", Tag: "latest", Digest: "sha256:aaaa"},
	}}
	if err := store.PutRelease(ctx, rel); err != nil {
		fmt.Println(err)
		return
	}
	dep := &history.Deployment{Project: "search", Environment: "prod", ReleaseID: rel.ID}
	if err := store.CreateDeployment(ctx, dep); err != nil {
		fmt.Println(err)
		return
	}
	// ... move tags, redeploy, wait ...
	dep.Status, dep.FinishedAt = history.StatusSucceeded, now.Add(3*time.Minute)
	if err := store.UpdateDeployment(ctx, dep); err != nil {
		fmt.Println(err)
		return
	}
	latest, _ := store.ListDeployments(ctx, "search", "prod", 1)
	fmt.Println(latest[0].Status, latest[0].Version, latest[0].ReleaseID == rel.ID)
	// Output:
	// acquire lock: environment search/prod is locked by alice until 2026-11-22T10:40:00Z
	// succeeded 2 true
}

// A release can be named by any unique prefix of its id, in any case.
func ExampleStore_GetRelease() {
	ctx := context.Background()
	store := history.NewMemory()
	for _, id := range []string{"01JD5Z8Q0000000000000000AA", "01JD5Z8Q0000000000000000BB"} {
		_ = store.PutRelease(ctx, &history.Release{ID: id, Project: "search"})
	}
	r, err := store.GetRelease(ctx, "search", "01jd5z8q0000000000000000b")
	fmt.Println(r.ID, err)
	_, err = store.GetRelease(ctx, "search", "01JD5Z8Q")
	fmt.Println(errors.Is(err, history.ErrAmbiguous))
	// Output:
	// 01JD5Z8Q0000000000000000BB <nil>
	// true
}

func ExampleNewID() {
	id := history.NewID(time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC))
	fmt.Println(len(id), id[:10])
	// Output: 26 01M81CWF20
}

// In production the history lives in DynamoDB: create the table once,
// then use the store like any other.
func ExampleNewDynamoDB() {
	ctx := context.Background()
	var cfg aws.Config // from config.LoadDefaultConfig(ctx)
	client := dynamodb.NewFromConfig(cfg)
	if err := history.Init(ctx, client, "buoy-history"); err != nil {
		fmt.Println(err)
		return
	}
	store := history.NewDynamoDB(client, "buoy-history")
	current, err := store.ListCurrent(ctx, "search")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range current {
		fmt.Println(c.Environment, c.ReleaseID)
	}
}
