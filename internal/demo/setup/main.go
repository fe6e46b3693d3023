// Command setup builds the demo's AWS world on the emulator that
// AWS_ENDPOINT_URL points at, and writes the project's buoy.yaml into the
// directory given by -dir. scripts/demo runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/buoy-deploy/buoy/internal/demo"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
)

func main() {
	dir := flag.String("dir", ".", "directory to write buoy.yaml into")
	prefix := flag.String("prefix", "shop", "prefix of every name")
	flag.Parse()
	if err := run(context.Background(), *dir, *prefix); err != nil {
		fmt.Fprintf(os.Stderr, "setup: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir, prefix string) error {
	if os.Getenv("AWS_ENDPOINT_URL") == "" {
		return fmt.Errorf("AWS_ENDPOINT_URL is not set: the demo only runs against an emulator (scripts/demo starts one)")
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(demo.Region))
	if err != nil {
		return err
	}
	w := demo.World(prefix)
	if err := w.Build(ctx, cfg); err != nil {
		return err
	}
	fmt.Printf("created ECR repositories %s, %s, %s with builds ref.%.7s (env.stage, env.prod) and ref.%.7s (latest)\n",
		w.Image("web").Repository, w.Image("nginx").Repository, w.Image("worker").Repository,
		deployfixture.OldCommit, deployfixture.NewCommit)
	fmt.Printf("created ECS clusters %s and %s, each running services web (web + nginx) and worker, 2 tasks each\n",
		w.ClusterOf("stage"), w.ClusterOf("prod"))
	return os.WriteFile(filepath.Join(dir, "buoy.yaml"), []byte(w.YAML()), 0o644)
}
