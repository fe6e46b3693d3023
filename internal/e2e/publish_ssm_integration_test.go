//go:build integration

package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/pkg/deploy"
)

// parameter reads one SSM parameter with the SDK; "" when it does not
// exist.
func parameter(ctx context.Context, t *testing.T, name string) string {
	t.Helper()
	return parameterIn(ctx, t, awstest.Region, name)
}

// parameterIn reads one SSM parameter of region with the SDK; "" when it
// does not exist.
func parameterIn(ctx context.Context, t *testing.T, region, name string) string {
	t.Helper()
	out, err := ssm.NewFromConfig(awstest.Config(t), func(o *ssm.Options) { o.Region = region }).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	var nf *ssmtypes.ParameterNotFound
	if errors.As(err, &nf) {
		return ""
	}
	if err != nil {
		t.Fatalf("GetParameter %s: %v", name, err)
	}
	if out.Parameter.Type != ssmtypes.ParameterTypeString {
		t.Errorf("%s is a %s parameter, want String", name, out.Parameter.Type)
	}
	return aws.ToString(out.Parameter.Value)
}

// TestPublishSSMWritesTheKeysTerraformReads: publish_ssm writes
// /{project}/images/{environment}/{image id} = the image pinned by digest,
// on a buoy.yaml project (through the CLI) and on a legacy image-based
// project, whose image ids are what weco-deploy named these parameters by
// and what their Terraform reads (e.g. /storage/images/stage/bag_register
// for the image bag_register, whose ECS service is bag-register): never
// the ECS service id.
func TestPublishSSMWritesTheKeysTerraformReads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("buoy.yaml", func(t *testing.T) {
		t.Parallel()
		bin := buildCLI(t)
		f := deployfixture.New(ctx, t, awstest.Config(t), deployfixture.Options{Images: 2, ExtraYAML: []string{"publish_ssm: true"}})
		r := start(t, bin, cliEnv(t, awstest.Endpoint(t), "ci"), deployArgs(f)...)
		if code := r.wait(t); code != exitcode.OK {
			t.Fatalf("release-deploy: exit %d\n%s", code, r.output())
		}
		for _, img := range f.Images {
			name := "/" + f.Project + "/images/" + deployfixture.Environment + "/" + img.ID
			if got, want := parameter(ctx, t, name), ecrURI+img.Repository+"@"+img.New; got != want {
				t.Errorf("%s: got %q, want %q", name, got, want)
			}
			if got := parameter(ctx, t, "/"+f.Project+"/images/"+deployfixture.Environment+"/"+img.Services[0]); got != "" {
				t.Errorf("a parameter named by the service %s exists (%q); publish_ssm names them by image", img.Services[0], got)
			}
		}
	})

	t.Run("legacy", func(t *testing.T) {
		t.Parallel()
		image := strings.ReplaceAll(awstest.Name(t, "bag_register"), "-", "_")
		service := strings.ReplaceAll(image, "_", "-")
		w := &deployfixture.World{
			Project:      strings.ReplaceAll(awstest.Name(t, "storage"), "-", "_"),
			Table:        awstest.Name(t, "buoy-legacy"),
			Images:       []deployfixture.Image{{ID: image, Repository: "uk.ac.wellcome/" + image, Services: []string{service}}},
			Services:     []deployfixture.Service{{ID: service}},
			Environments: []deployfixture.Env{{ID: "stage", Clusters: []string{awstest.Name(t, "storage-stage")}}},
		}
		f := deployfixture.Start(ctx, t, awstest.Config(t), w)
		legacy := filepath.Join(f.Dir, ".wellcome_project")
		manifest := fmt.Sprintf(`{"id": %q, "account_id": %q, "aws_region_name": %q,
 "environments": [{"id": "stage", "name": "Staging"}],
 "image_repositories": [{"id": %q, "services": [{"id": %q}]}]}`, w.Project, awstest.AccountID, awstest.Region, image, service)
		if err := os.WriteFile(legacy, []byte(manifest), 0o600); err != nil {
			t.Fatal(err)
		}
		d, _, err := deploy.Open(ctx, deploy.Config{ManifestPath: legacy, Table: w.Table, AWS: awstest.Config(t),
			Options: []deploy.Option{deploy.WithPollInterval(10 * time.Millisecond)}})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		stage := d.Project().Environments[0]
		stage.PublishSSM = true // a Go program's choice: legacy files have no key for it
		// Searching every cluster by tags (a legacy target's empty
		// cluster) is not what this test is about: name the cluster.
		stage.Targets[0].Cluster = f.Cluster
		res, err := d.ReleaseDeploy(ctx, deploy.ReleaseDeployInput{Request: deploy.Request{Environment: "stage", RequestedBy: "ci", Timeout: time.Minute}})
		if err != nil {
			t.Fatalf("ReleaseDeploy: %v", err)
		}
		if len(res.Services) != 1 {
			t.Errorf("deployed %d services, want the one tagged %s", len(res.Services), service)
		}
		if got, want := parameter(ctx, t, "/"+w.Project+"/images/stage/"+image), ecrURI+w.Images[0].Repository+"@"+f.Images[0].New; got != want {
			t.Errorf("/%s/images/stage/%s: got %q, want %q", w.Project, image, got, want)
		}
		if got := parameter(ctx, t, "/"+w.Project+"/images/stage/"+service); got != "" {
			t.Errorf("/%s/images/stage/%s (the ECS service) exists: %q; want only the image's parameter", w.Project, service, got)
		}
	})
}
