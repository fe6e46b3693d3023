// Command bench measures buoy against moto: for projects of N images,
// each in its own ECR repository feeding one ECS service, it runs the
// built CLI's `release-deploy --output json` (waiting for ECS) and
// prints, per N, the wall time, the AWS calls by operation (from the
// result's stats, so setup calls are not counted), the lower bound the
// APIs allow, their ratio and the process's peak memory (max RSS). It
// sets the wall time against the fastest AWS's documented ECS quota
// allows for those calls, and buoy's own time with its ECS request
// budget lifted; and it runs rows against an account that leaves buoy
// only part of that quota (a proxy in front of moto's ECS throttling it
// with ECS's token buckets) to show that buoy still converges. It also
// times `buoy --version`. `make bench` runs it under scripts/with-moto;
// docs/performance.md explains the numbers.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	cfg := options{}
	flag.StringVar(&cfg.buoy, "buoy", ".bench/buoy", "the built buoy binary")
	sizes := flag.String("sizes", "1,10,50,200", "comma-separated numbers of images (and services); empty for none")
	legacy := flag.String("legacy-sizes", "1,10,50", "comma-separated numbers of images (and services) of the legacy rows; empty for none")
	flag.IntVar(&cfg.crowd, "crowd", 200, "unrelated services in the account of each crowded legacy row")
	flag.IntVar(&cfg.fanoutN, "fanout-images", 50, "images of the row whose environment fans out to 3 targets (0: no such row)")
	flag.IntVar(&cfg.fanoutTargets, "fanout-targets", 3, "targets (clusters) of the fan-out row")
	flag.BoolVar(&cfg.unpaced, "unpaced", true, "also run each row's release-deploy with the ECS request budget lifted, for buoy's own time")
	throttled := flag.String("throttled-sizes", "50", "comma-separated numbers of images (and services) of the rows run against a throttled account; empty for none")
	shares := flag.String("throttled-shares", "0.5", "comma-separated shares of AWS's ECS quota the throttled account leaves to buoy, each above 0 and at most 1")
	flag.IntVar(&cfg.versionRuns, "version-runs", 20, "runs of `buoy --version` to take the best of")
	flag.BoolVar(&cfg.detail, "detail", true, "print the calls of each row by operation")
	flag.Func("deploy-flag", "a flag to add to release-deploy, e.g. -deploy-flag=--ecs-rate=100 (repeatable)", func(s string) error {
		cfg.deployFlags = append(cfg.deployFlags, s)
		return nil
	})
	flag.Parse()
	var err error
	if cfg.sizes, err = parseSizes("sizes", *sizes); err == nil {
		cfg.legacySizes, err = parseSizes("legacy-sizes", *legacy)
	}
	if err == nil {
		cfg.throttledSizes, err = parseSizes("throttled-sizes", *throttled)
	}
	if err == nil {
		cfg.throttledShares, err = parseShares("throttled-shares", *shares)
	}
	if err == nil && cfg.crowd < 1 {
		err = fmt.Errorf("-crowd %d: give at least 1 unrelated service", cfg.crowd)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(2)
	}
	cfg.endpoint = os.Getenv("BUOY_TEST_AWS_ENDPOINT")
	if err := run(context.Background(), os.Stdout, cfg); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// parseSizes reads a comma-separated list of sizes, each at least 1; an
// empty list is none.
func parseSizes(flagName, list string) ([]int, error) {
	var out []int
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	for s := range strings.SplitSeq(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad size %q in -%s", s, flagName)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseShares reads a comma-separated list of shares of a quota, each
// above 0 and at most 1.
func parseShares(flagName, list string) ([]float64, error) {
	var out []float64
	for s := range strings.SplitSeq(list, ",") {
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || !(f > 0 && f <= 1) {
			return nil, fmt.Errorf("bad share %q in -%s: write a number above 0 and at most 1, like 0.5", s, flagName)
		}
		out = append(out, f)
	}
	return out, nil
}

// options is what a benchmark run takes.
type options struct {
	buoy          string
	endpoint      string
	sizes         []int
	legacySizes   []int
	crowd         int
	fanoutN       int
	fanoutTargets int
	versionRuns   int
	detail        bool
	deployFlags   []string
	// unpaced runs each row again with the budget lifted; the throttled
	// rows run each size against an account leaving each share.
	unpaced         bool
	throttledSizes  []int
	throttledShares []float64
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
	// The legacy rows come first: their quiet account must hold no
	// crowd (nor the other rows' services), and each crowded row then
	// adds its own.
	if err := b.legacyRows(ctx, out); err != nil {
		return err
	}
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
	unpaced := map[row]time.Duration{}
	for _, r := range rows {
		m, err := b.measure(ctx, r.n, r.targets, variant{})
		if err != nil {
			return fmt.Errorf("row of %d images, %d targets: %w", r.n, r.targets, err)
		}
		if cfg.unpaced {
			if m.unpaced, err = b.unpacedTime(ctx, r.n, r.targets); err != nil {
				return err
			}
			unpaced[r] = m.unpaced
		}
		results = append(results, m)
		if cfg.detail {
			m.printDetail(out)
		}
	}
	if len(results) > 0 {
		printTable(out, results)
		fmt.Fprintln(out)
	}
	var throttled []*measurement
	for _, n := range cfg.throttledSizes {
		for _, share := range cfg.throttledShares {
			m, err := b.measureThrottled(ctx, n, share)
			if err != nil {
				return fmt.Errorf("row of %d images on an account leaving %v of the ECS quota: %w", n, share, err)
			}
			if cfg.unpaced {
				if m.unpaced = unpaced[row{n, 1}]; m.unpaced == 0 {
					if m.unpaced, err = b.unpacedTime(ctx, n, 1); err != nil {
						return err
					}
					unpaced[row{n, 1}] = m.unpaced
				}
			}
			throttled = append(throttled, m)
			if cfg.detail {
				m.printDetail(out)
			}
		}
	}
	if len(throttled) > 0 {
		printThrottledTable(out, throttled)
	}
	return nil
}

// unpacedTime measures a row of n images on targets clusters again, on a
// world of its own, with the ECS request budget lifted (unpacedFlags),
// and returns its wall time: what buoy and moto take when nothing paces
// the calls.
func (b *bench) unpacedTime(ctx context.Context, n, targets int) (time.Duration, error) {
	m, err := b.measure(ctx, n, targets, variant{flags: unpacedFlags})
	if err != nil {
		return 0, fmt.Errorf("row of %d images, %d targets, budget lifted: %w", n, targets, err)
	}
	return m.wall, nil
}

// legacyRows measures a legacy project of each legacy size, first in the
// account as it is, then beside cfg.crowd more unrelated services each,
// and prints both with the lower bound.
func (b *bench) legacyRows(ctx context.Context, out io.Writer) error {
	if len(b.cfg.legacySizes) == 0 {
		return nil
	}
	var quiet, crowded []*measurement
	others := 0 // services in the account that are not the row's project's
	for _, crowd := range []int{0, b.cfg.crowd} {
		for _, n := range b.cfg.legacySizes {
			m, err := b.measureLegacy(ctx, n, crowd)
			if err != nil {
				return fmt.Errorf("legacy row of %d images, %d more unrelated services: %w", n, crowd, err)
			}
			others += crowd
			m.others = others
			others += 2 * n // its stage and prod services, for the rows after it
			if crowd == 0 {
				quiet = append(quiet, m)
			} else {
				crowded = append(crowded, m)
			}
			if b.cfg.detail {
				m.printDetail(out)
			}
		}
	}
	printLegacyTable(out, quiet, crowded)
	fmt.Fprintln(out)
	return nil
}
