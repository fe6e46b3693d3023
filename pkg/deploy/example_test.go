package deploy_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
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

// Release-deploy a project to stage with the history in memory and AWS
// played by two small fakes of the Registry and Cluster ports: the run
// locks stage, records the deployment, moves the floating tag, redeploys
// the service, waits and closes the record.
func ExampleDeployer_ReleaseDeploy() {
	project := &manifest.Project{
		ID:       "shop",
		Images:   []*manifest.Image{{ID: "web", Repository: "shop/web", Services: []string{"web"}}},
		Services: []*manifest.Service{{ID: "web"}},
		Environments: []*manifest.Environment{{ID: "stage", Tag: "env.stage", Strategy: manifest.StrategyTag,
			Targets: []manifest.Target{{Cluster: "shop-stage"}}}},
	}
	ecr := fakeECR{"shop/web": {"env.stage": digest("1"), "latest": digest("2")}}
	store := history.NewMemory()
	events := &event.Recorder{}
	d, err := deploy.New(project, store,
		deploy.WithRegistry(func(deploy.RegistryParams) (deploy.Registry, error) { return ecr, nil }),
		deploy.WithCluster(func(deploy.ClusterParams) (deploy.Cluster, error) { return fakeECS{}, nil }),
		deploy.WithSink(events), deploy.WithConcurrency(1),
		deploy.WithClock(clocktest.New(time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC))))
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := d.ReleaseDeploy(context.Background(), deploy.ReleaseDeployInput{
		Request: deploy.Request{Environment: "stage", RequestedBy: "ci"},
		Label:   "latest",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range events.Events() {
		fmt.Println(e.Kind, e.Message)
	}
	rec, _ := store.GetDeployment(context.Background(), "shop", res.Deployment.ID)
	fmt.Println("recorded:", rec.Status, "env.stage ->", ecr["shop/web"]["env.stage"] == digest("2"))
	// Output:
	// plan web: env.stage 111111111111 -> 222222222222
	// plan redeploy web: the tag of web moves
	// tag-moved shop/web:env.stage -> 222222222222
	// service-updated web: new ECS deployment ecs-svc/1
	// service-done web succeeded after 42s
	// finished deployment succeeded
	// recorded: succeeded env.stage -> true
}

func digest(hex string) string { return "sha256:" + strings.Repeat(hex, 64) }

// fakeECR is a Registry of tags by repository.
type fakeECR map[string]map[string]string

func (r fakeECR) Resolve(_ context.Context, qs []deploy.ImageQuery) ([]*history.ImageRef, error) {
	out := make([]*history.ImageRef, len(qs))
	for i, q := range qs {
		if d := cmp.Or(q.Digest, r[q.Image.Repository][q.Tag]); d != "" {
			out[i] = &history.ImageRef{Repository: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/" + q.Image.Repository, Tag: q.Tag, Digest: d}
		}
	}
	return out, nil
}

func (r fakeECR) Tag(_ context.Context, img *manifest.Image, ref history.ImageRef, tag string) (bool, error) {
	moved := r[img.Repository][tag] != ref.Digest
	r[img.Repository][tag] = ref.Digest
	return moved, nil
}

// fakeECS is a Cluster whose services use their image's floating tag and
// whose rollouts succeed at once.
type fakeECS struct{}

func (fakeECS) Find(_ context.Context, in deploy.FindInput) ([]deploy.ServiceRef, error) {
	var out []deploy.ServiceRef
	for _, name := range in.Names {
		out = append(out, deploy.ServiceRef{Name: name, Key: name, Cluster: "shop-stage", TaskDefinition: name + ":1",
			Containers: map[string]string{name: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/" + name + ":env.stage"}})
	}
	return out, nil
}

func (fakeECS) PinImages(context.Context, deploy.ServiceRef, []history.ImageRef) (string, error) {
	return "", errors.New("the tag strategy pins nothing")
}

func (fakeECS) Redeploy(_ context.Context, svc deploy.ServiceRef, _ string) (deploy.Started, error) {
	return deploy.Started{Service: svc, ECSDeployment: "ecs-svc/1", TaskDefinition: svc.TaskDefinition}, nil
}

func (fakeECS) Wait(_ context.Context, started []deploy.Started, _ time.Duration) ([]deploy.Outcome, error) {
	out := make([]deploy.Outcome, len(started))
	for i, st := range started {
		out[i] = deploy.Outcome{Started: st, Status: history.StatusSucceeded, Duration: 42 * time.Second}
	}
	return out, nil
}

func (fakeECS) Tasks(context.Context, deploy.ServiceRef) (map[string][]string, error) {
	return nil, nil
}
