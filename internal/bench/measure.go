package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/buoy-deploy/buoy/internal/demo"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
)

// bench holds the clients that build worlds and how to run buoy.
type bench struct {
	cfg options
	aws aws.Config
	env []string
}

func newBench(ctx context.Context, cfg options) (*bench, error) {
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(demo.Region),
		config.WithBaseEndpoint(cfg.endpoint),
		config.WithCredentialsProvider(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing"}, nil
		})))
	if err != nil {
		return nil, err
	}
	env := []string{"AWS_ENDPOINT_URL=" + cfg.endpoint, "AWS_REGION=" + demo.Region,
		"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_EC2_METADATA_DISABLED=true"}
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return &bench{cfg: cfg, aws: awsCfg, env: env}, nil
}

// measurement is one row of the table.
type measurement struct {
	n, targets int
	// legacy rows deploy a .wellcome_project (targets is then the
	// clusters its services are spread over), beside crowd services of
	// other projects built with it; others counts every service of the
	// account that is not the project's.
	legacy        bool
	crowd, others int
	wall          time.Duration
	maxRSSKiB     int64
	status        string
	stats         map[string]int
	setup         time.Duration
	// unpaced is the row's release-deploy with the budget lifted on a
	// quiet account: buoy's own time, moto's included (0: not measured).
	unpaced time.Duration
	// throttledShare is, on a throttled row, the share of AWS's ECS
	// quota the account leaves to buoy (throttlingECS), and throttled
	// how many ECS calls were answered ThrottlingException.
	throttledShare float64
	throttled      int
}

// variant says how a row's release-deploy runs: with flags after the
// benchmark's own and its -deploy-flag ones, and env added to buoy's
// environment.
type variant struct {
	flags []string
	env   []string
}

// unpacedFlags lift the ECS request budget: no category's bucket can
// empty in a benchmark's run.
var unpacedFlags = []string{"--ecs-quota-share=1000", "--ecs-rate=1000000", "--ecs-burst=1000000"}

// result is the part of `buoy --output json` the benchmark reads.
type result struct {
	Status string         `json:"status"`
	Stats  map[string]int `json:"stats"`
}

// measure builds a world of n images and services on targets clusters and
// runs release-deploy against it once, as v says.
func (b *bench) measure(ctx context.Context, n, targets int, v variant) (*measurement, error) {
	prefix := fmt.Sprintf("b%d-%d-%s", n, targets, suffix())
	m := &measurement{n: n, targets: targets}
	return m, b.deploy(ctx, m, newWorld(prefix, n, targets), "buoy.yaml", v)
}

// measureThrottled measures a row of n images on one target against an
// account that leaves share of AWS's ECS quota to buoy (throttlingECS):
// buoy's ECS calls go through the throttling proxy, the others straight
// to moto.
func (b *bench) measureThrottled(ctx context.Context, n int, share float64) (*measurement, error) {
	p, err := throttlingECS(b.cfg.endpoint, share)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	m, err := b.measure(ctx, n, 1, variant{env: []string{"AWS_ENDPOINT_URL_ECS=" + p.URL()}})
	if m != nil {
		m.throttledShare, m.throttled = share, throttledCalls(p)
	}
	return m, err
}

// measureLegacy builds a weco-deploy project of n images and services
// (deployfixture.LegacyProject: its .wellcome_project names no cluster,
// its services are spread over two clusters and found by their tags),
// with crowd services of other projects beside it (deployfixture.NewCrowd:
// some tagged for the same environment, some decoys with its service ids
// for another), and runs release-deploy against it once.
func (b *bench) measureLegacy(ctx context.Context, n, crowd int) (*measurement, error) {
	w := deployfixture.LegacyProject(fmt.Sprintf("l%d-%d-%s", n, crowd, suffix()), n)
	if crowd > 0 {
		w.Crowd = deployfixture.NewCrowd(w, crowd)
	}
	m := &measurement{n: n, targets: len(w.Environments[0].Clusters), legacy: true, crowd: crowd}
	return m, b.deploy(ctx, m, w, ".wellcome_project", variant{})
}

func suffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// deploy builds w, writes its manifest as file, creates its history table
// (`buoy init`, unless Build made it) and runs release-deploy to stage
// from latest once, as v says, filling m.
func (b *bench) deploy(ctx context.Context, m *measurement, w *deployfixture.World, file string, v variant) error {
	start := time.Now()
	if err := w.Build(ctx, b.aws); err != nil {
		return fmt.Errorf("set up: %w", err)
	}
	dir, err := os.MkdirTemp("", "buoy-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, file), []byte(w.YAML()), 0o644); err != nil {
		return err
	}
	table := w.Table
	if table == "" {
		table = w.Project + "-history"
		if _, _, err := b.buoy(ctx, dir, nil, "init", "--table", table); err != nil {
			return err
		}
	}
	m.setup = time.Since(start)

	start = time.Now()
	args := append([]string{"release-deploy", "--environment", "stage", "--from-label", "latest",
		"--table", table, "--output", "json", "--timeout", "5m"}, b.cfg.deployFlags...)
	args = append(args, v.flags...)
	stdout, rusage, err := b.buoy(ctx, dir, v.env, args...)
	m.wall = time.Since(start)
	if err != nil {
		return err
	}
	m.maxRSSKiB = rusage.Maxrss
	var res result
	if err := json.Unmarshal(stdout, &res); err != nil {
		return fmt.Errorf("read release-deploy's JSON: %w", err)
	}
	m.status, m.stats = res.Status, res.Stats
	if m.status != "succeeded" {
		return fmt.Errorf("release-deploy ended %q, want succeeded", m.status)
	}
	return nil
}

// buoy runs the built binary in dir, with env added to its environment,
// and returns its stdout and resource usage; stderr is shown when it
// fails.
func (b *bench) buoy(ctx context.Context, dir string, env []string, args ...string) ([]byte, *syscall.Rusage, error) {
	path, err := filepath.Abs(b.cfg.buoy)
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir, cmd.Env = dir, append(slices.Clone(b.env), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var ru *syscall.Rusage
	if cmd.ProcessState != nil {
		ru, _ = cmd.ProcessState.SysUsage().(*syscall.Rusage)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("buoy %v: %w\n%s", args, err, stderr.String())
	}
	if ru == nil {
		return nil, nil, fmt.Errorf("buoy %v: no resource usage on this platform", args)
	}
	return stdout.Bytes(), ru, nil
}

// versionTime returns the best wall time of runs runs of `buoy --version`.
func (b *bench) versionTime(ctx context.Context, runs int) (time.Duration, error) {
	best := time.Duration(0)
	for range max(runs, 1) {
		start := time.Now()
		if _, _, err := b.buoy(ctx, os.TempDir(), nil, "--version"); err != nil {
			return 0, err
		}
		if d := time.Since(start); best == 0 || d < best {
			best = d
		}
	}
	return best, nil
}
