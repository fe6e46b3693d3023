// Command bench measures buoy against moto: for projects of N images,
// each in its own ECR repository feeding one ECS service, it runs the
// built CLI's `release-deploy --output json` (waiting for ECS) and
// prints, per N, the wall time, the AWS calls by operation (from the
// result's stats, so setup calls are not counted), the lower bound the
// APIs allow, their ratio and the process's peak memory (max RSS). It
// also times `buoy --version`. `make bench` runs it under
// scripts/with-moto; docs/performance.md explains the numbers.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

func main() {
	cfg := options{}
	flag.StringVar(&cfg.buoy, "buoy", ".bench/buoy", "the built buoy binary")
	sizes := flag.String("sizes", "1,10,50,200", "comma-separated numbers of images (and services)")
	flag.IntVar(&cfg.fanoutN, "fanout-images", 50, "images of the row whose environment fans out to 3 targets (0: no such row)")
	flag.IntVar(&cfg.fanoutTargets, "fanout-targets", 3, "targets (clusters) of the fan-out row")
	flag.IntVar(&cfg.versionRuns, "version-runs", 20, "runs of `buoy --version` to take the best of")
	flag.BoolVar(&cfg.detail, "detail", true, "print the calls of each row by operation")
	flag.Func("deploy-flag", "a flag to add to release-deploy, e.g. -deploy-flag=--ecs-rate=100 (repeatable)", func(s string) error {
		cfg.deployFlags = append(cfg.deployFlags, s)
		return nil
	})
	flag.Parse()
	for s := range strings.SplitSeq(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bench: bad size %q in -sizes\n", s)
			os.Exit(2)
		}
		cfg.sizes = append(cfg.sizes, n)
	}
	cfg.endpoint = os.Getenv("BUOY_TEST_AWS_ENDPOINT")
	if err := run(context.Background(), os.Stdout, cfg); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// options is what a benchmark run takes.
type options struct {
	buoy          string
	endpoint      string
	sizes         []int
	fanoutN       int
	fanoutTargets int
	versionRuns   int
	detail        bool
	deployFlags   []string
}

func run(ctx context.Context, out io.Writer, cfg options) error {
	if cfg.endpoint == "" {
		return fmt.Errorf("BUOY_TEST_AWS_ENDPOINT is not set: run me under scripts/with-moto (make bench does)")
	}
	b, err := newBench(ctx, cfg)
	if err != nil {
		return err
	}
	best, err := b.versionTime(ctx, cfg.versionRuns)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "buoy --version: best of %d runs %.1f ms\n\n", cfg.versionRuns, float64(best.Microseconds())/1000)
	type row struct {
		n, targets int
	}
	var rows []row
	for _, n := range cfg.sizes {
		rows = append(rows, row{n, 1})
	}
	if cfg.fanoutN > 0 {
		rows = append(rows, row{cfg.fanoutN, cfg.fanoutTargets})
	}
	var results []*measurement
	for _, r := range rows {
		m, err := b.measure(ctx, r.n, r.targets)
		if err != nil {
			return fmt.Errorf("row of %d images, %d targets: %w", r.n, r.targets, err)
		}
		results = append(results, m)
		if cfg.detail {
			m.printDetail(out)
		}
	}
	printTable(out, results)
	return nil
}
