package entrytest

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/internal/secretscan"
)

// LeakRun is a run of an entrypoint whose every output a secret scan
// reads: its settings, by the names the Action's inputs and the plugin's
// options share, and the exit code it ends with.
type LeakRun struct {
	Name     string
	Settings map[string]string
	Code     int
}

// LeakRuns are the runs of the secret scan on a deployfixture world whose
// history is table: a deployment that succeeds, one whose history table
// does not exist (nothing can run), one the library refuses (an unknown
// release) and one refused for its settings.
func LeakRuns(t *testing.T, table string) []LeakRun {
	return []LeakRun{
		{"succeeds", map[string]string{"environment": "stage", "from-label": "ref." + deployfixture.NewCommit, "table": table, "timeout": "2m"}, exitcode.OK},
		{"fails", map[string]string{"environment": "stage", "table": awstest.Name(t, "missing")}, exitcode.BadInput},
		{"unknown release", map[string]string{"command": "deploy", "environment": "stage", "release": "01JD000000000000000000000Z", "table": table}, exitcode.BadInput},
		{"bad settings", map[string]string{"environment": "stage", "table": table, "timeout": "soon"}, exitcode.BadInput},
	}
}

// Haystacks are what runs wrote, by where it was written, for a secret
// scan.
type Haystacks map[string]string

// AddHistory adds the items of the history table, read with the AWS SDK.
// It fails the test when the table holds fewer than a successful run
// writes (its release, its deployment and the current record): there
// would be nothing to scan.
func (h Haystacks) AddHistory(ctx context.Context, t *testing.T, table string) {
	t.Helper()
	scan, err := dynamodb.NewFromConfig(awstest.Config(t)).Scan(ctx, &dynamodb.ScanInput{TableName: &table})
	if err != nil {
		t.Fatalf("scan the history: %v", err)
	}
	if len(scan.Items) < 3 {
		t.Errorf("the history holds %d items, want the release, the deployment and the current record to scan", len(scan.Items))
	}
	records, err := json.Marshal(scan.Items)
	if err != nil {
		t.Fatal(err)
	}
	h["history"] = string(records)
}

// CheckNoSecret fails the test for each place that holds one of secrets.
func (h Haystacks) CheckNoSecret(t *testing.T, secrets map[string]string) {
	t.Helper()
	where := make([]string, 0, len(h))
	for w := range h {
		where = append(where, w)
	}
	slices.Sort(where)
	for _, w := range where {
		if found := secretscan.Find(h[w], secrets); len(found) > 0 {
			t.Errorf("%s holds %v", w, found)
		}
	}
}
