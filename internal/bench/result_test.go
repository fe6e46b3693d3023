package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// The benchmark reads release-deploy's --output json; the CLI's golden
// file of that output (cmd/buoy/testdata) must still give it the status
// and the AWS call counts.
func TestResultReadsTheCLIsJSON(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "..", "cmd", "buoy", "testdata", "result-failed.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res result
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	if res.Status != "failed" || res.Stats["ECS.UpdateService"] != 1 || len(res.Stats) != 4 {
		t.Errorf("got status %q, stats %v; want failed and the 4 counted operations", res.Status, res.Stats)
	}
}
