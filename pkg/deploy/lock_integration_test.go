//go:build integration

package deploy

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// dynamoDBStores makes a history table on moto; each run gets its own
// store in it, writing times from its own clock.
func dynamoDBStores(t *testing.T) lockStores {
	t.Helper()
	client := dynamodb.NewFromConfig(awstest.Config(t))
	table := awstest.Name(t, "buoy-lock")
	if err := history.Init(context.Background(), client, table); err != nil {
		t.Fatalf("Init(%s): %v", table, err)
	}
	return func(_ *testing.T, now func() time.Time) history.Store {
		return history.NewDynamoDB(client, table, history.WithClock(now))
	}
}

// TestSkewedClocksOnDynamoDB plays the lock's skew tests on DynamoDB,
// each run with a store of its own whose clock is its run's: a renewing
// holder is never taken over, a dead one after one lease of observation.
func TestSkewedClocksOnDynamoDB(t *testing.T) {
	t.Parallel()
	for _, sk := range skews {
		t.Run("live holder/"+sk.name, func(t *testing.T) {
			t.Parallel()
			testLiveLockKept(t, dynamoDBStores(t), sk.holder, sk.challenger)
		})
		t.Run("dead holder/"+sk.name, func(t *testing.T) {
			t.Parallel()
			testDeadLockTakenOver(t, dynamoDBStores(t), sk.holder, sk.challenger)
		})
	}
}
