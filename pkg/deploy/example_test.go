package deploy_test

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// Open a project from its manifest and deploy the latest build to stage,
// printing progress events as they come.
func ExampleOpen() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	d, _, err := deploy.Open(ctx, deploy.Config{
		ManifestPath: "buoy.yaml",
		AWS:          cfg,
		Sink:         event.Func(func(e event.Event) { fmt.Println(e.Kind, e.Message) }),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := d.ReleaseDeploy(ctx, deploy.ReleaseDeployInput{
		Request: deploy.Request{Environment: "stage", RequestedBy: "ci", Timeout: 15 * time.Minute, Rollback: true},
		Label:   "latest",
	})
	if err != nil {
		fmt.Println(err) // errors.Is(err, deploy.ErrDeploymentFailed), history.ErrLocked, ...
	}
	if res != nil {
		fmt.Println(res.Status, res.Stats)
	}
}

// Plan a promotion without changing anything.
func ExampleDeployer_Promote() {
	m, err := manifest.Load("buoy.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	project, err := m.Project("shop")
	if err != nil {
		fmt.Println(err)
		return
	}
	d, err := deploy.New(project, history.NewMemory())
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := d.Promote(context.Background(), deploy.PromoteInput{
		Request: deploy.Request{Environment: "prod", DryRun: true},
		From:    "stage",
	})
	if err != nil {
		fmt.Println(err) // e.g. stage has drifted, or has no current release
		return
	}
	for _, im := range res.Images {
		fmt.Println(im.Image, im.From, "->", im.To, "moves:", im.Moved)
	}
}
