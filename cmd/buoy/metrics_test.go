package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/golden"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/dora"
)

// TestParseSince: --since takes a duration back from now, in days and
// weeks or as Go writes durations, or a date or time; anything else,
// or a duration that is not back from now, is bad input saying what to
// write.
func TestParseSince(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		in      string
		want    time.Time
		wantErr string
	}{
		{in: "30d", want: time.Date(2026, 10, 23, 10, 30, 0, 0, time.UTC)},
		{in: "2w", want: time.Date(2026, 11, 8, 10, 30, 0, 0, time.UTC)},
		{in: "12h", want: time.Date(2026, 11, 21, 22, 30, 0, 0, time.UTC)},
		{in: "90m", want: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)},
		{in: "1h30m", want: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)},
		{in: "2026-11-01", want: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
		{in: "2026-11-01T09:00:00+01:00", want: time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)},
		{in: "0d", wantErr: `--since "0d" is neither a duration back from now`},
		{in: "-12h", wantErr: "--since -12h: give a duration back from now above zero"},
		{in: "30 days", wantErr: `--since "30 days" is neither a duration back from now (30d, 2w, 12h, 90m) nor a date (2026-11-01)`},
		{in: "2026-13-01", wantErr: "is neither a duration"},
		{in: "", wantErr: "is neither a duration"},
	} {
		got, err := parseSince(tc.in, now)
		var fe *flagError
		switch {
		case tc.wantErr == "" && (err != nil || !got.Equal(tc.want)):
			t.Errorf("parseSince(%q): got %v, %v; want %v", tc.in, got, err, tc.want)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.As(err, &fe)):
			t.Errorf("parseSince(%q): got %v, %v; want a flag error saying %q", tc.in, got, err, tc.wantErr)
		}
	}
}

// TestPrintMetrics: the text and JSON forms of the figures, and of
// figures with nothing measured.
func TestPrintMetrics(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 10, 23, 10, 30, 0, 0, time.UTC)
	rate := 2.0 / 9
	for _, tc := range []struct {
		name string
		rep  deploy.MetricsReport
	}{
		{"metrics", deploy.MetricsReport{Project: "shop", Environment: "prod", Figures: dora.Figures{
			Since: since, Until: since.AddDate(0, 0, 30),
			Deployments: dora.Counts{Total: 12, Succeeded: 9, Failed: 1, RolledBack: 1, InProgress: 1, Rollbacks: 1, Unchanged: 1,
				Changes: 9, SucceededChanges: 8, ChangeFailures: 2},
			DeploymentsPerDay: 8.0 / 30,
			LeadTime:          dora.Spread{Count: 7, Median: 2*time.Hour + 13*time.Minute + 20*time.Second, P90: 50 * time.Hour},
			LeadTimeUnknown:   1, ChangeFailureRate: &rate,
			TimeToRestore: dora.Spread{Count: 1, Median: 25 * time.Minute, P90: 25 * time.Minute},
			Unrestored:    1,
		}}},
		{"metrics-none", deploy.MetricsReport{Project: "shop", Environment: "stage", Figures: dora.Figures{
			Since: since, Until: since.Add(12 * time.Hour)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			printMetrics(&b, &tc.rep)
			golden.Check(t, "testdata/"+tc.name+".txt", b.String())
			b.Reset()
			if err := writeJSON(&b, &tc.rep); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "testdata/"+tc.name+".json", b.String())
		})
	}
}
