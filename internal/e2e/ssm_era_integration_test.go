//go:build integration

package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/iampolicy"
)

// ssmWorld is an SSM-era project on moto, as weco-deploy's users had it:
// a 2019 .wellcome_project without image_repositories, and for each
// service an ECR repository with an old and a new build, the new one
// written by CI to /{project}/images/latest/{service} as an ECR URI with
// its tag (String). One service's URI is already pinned by digest, and
// one image is on Docker Hub, pinned by digest.
type ssmWorld struct {
	project, table, manifest string
	// want is the URI pinned by digest each service's parameter must
	// hold once deployed.
	want map[string]string
	// repos maps each service in ECR to its repository.
	repos map[string]string
	ssm   *ssm.Client
}

// ecrURI is the registry of moto's account.
const ecrURI = awstest.AccountID + ".dkr.ecr." + awstest.Region + ".amazonaws.com/"

func newSSMWorld(ctx context.Context, t *testing.T, services int) *ssmWorld {
	t.Helper()
	cfg := awstest.Config(t)
	w := &ssmWorld{project: strings.ReplaceAll(awstest.Name(t, "storage"), "-", "_"), table: awstest.Name(t, "buoy-ssm"),
		want: map[string]string{}, repos: map[string]string{}, ssm: ssm.NewFromConfig(cfg)}
	if err := history.Init(ctx, dynamodb.NewFromConfig(cfg), w.table); err != nil {
		t.Fatal(err)
	}
	ecrc := ecr.NewFromConfig(cfg)
	for i := range services {
		svc := fmt.Sprintf("svc_%02d", i)
		repo := awstest.Name(t, "uk.ac.wellcome/"+svc)
		if _, err := ecrc.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)}); err != nil {
			t.Fatalf("create repository %s: %v", repo, err)
		}
		old := awstest.PushImage(ctx, t, ecrc, repo, awstest.DockerManifest(t), "ref.old")
		latest := awstest.PushImage(ctx, t, ecrc, repo, awstest.DockerManifest(t), "ref.new", "latest")
		w.repos[svc] = repo
		w.want[svc] = ecrURI + repo + "@" + latest
		value := ecrURI + repo + ":ref.new"
		if i == 1 {
			value += "@" + latest // CI already pinned this one
		}
		w.put(ctx, t, "/"+w.project+"/images/latest/"+svc, value)
		if i == 0 { // what weco-deploy last deployed to stage: a tag
			w.put(ctx, t, "/"+w.project+"/images/stage/"+svc, ecrURI+repo+":ref.old")
			_ = old
		}
	}
	nginx := "docker.io/library/nginx@" + awstest.Digest([]byte("nginx 1.27"))
	w.want["nginx"] = nginx
	w.put(ctx, t, "/"+w.project+"/images/latest/nginx", nginx)

	dir := t.TempDir()
	w.manifest = filepath.Join(dir, ".wellcome_project")
	manifest := fmt.Sprintf(`{
  "id": %q,
  "name": "Storage service",
  "aws_region_name": %q,
  "environments": [
    {"id": "stage", "name": "Staging"},
    {"id": "prod", "name": "Production"},
    {"id": "latest", "name": "Latest"}
  ]
}
`, w.project, awstest.Region)
	if err := os.WriteFile(w.manifest, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	return w
}

// put writes a String parameter as CI (or weco-deploy) did.
func (w *ssmWorld) put(ctx context.Context, t *testing.T, name, value string) {
	t.Helper()
	if _, err := w.ssm.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value),
		Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true)}); err != nil {
		t.Fatalf("PutParameter %s: %v", name, err)
	}
}

// params reads, with the SDK, the parameters under /{project}/images/{env}.
func (w *ssmWorld) params(ctx context.Context, t *testing.T, env string) map[string]ssmtypes.Parameter {
	t.Helper()
	out := map[string]ssmtypes.Parameter{}
	p := ssm.NewGetParametersByPathPaginator(w.ssm, &ssm.GetParametersByPathInput{Path: aws.String("/" + w.project + "/images/" + env)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("GetParametersByPath: %v", err)
		}
		for _, prm := range page.Parameters {
			out[strings.TrimPrefix(aws.ToString(prm.Name), "/"+w.project+"/images/"+env+"/")] = prm
		}
	}
	return out
}

// args are the common flags of a CLI run on the world.
func (w *ssmWorld) args(verb string, extra ...string) []string {
	return append([]string{verb, "--manifest", w.manifest, "--table", w.table}, extra...)
}

// checkDeployed checks with the SDK that /{project}/images/{env}/{svc}
// holds, as a String, the URI pinned by digest of every service.
func (w *ssmWorld) checkDeployed(ctx context.Context, t *testing.T, env string) {
	t.Helper()
	got := w.params(ctx, t, env)
	if len(got) != len(w.want) {
		t.Errorf("/%s/images/%s holds %d parameters, want %d", w.project, env, len(got), len(w.want))
	}
	for svc, want := range w.want {
		p := got[svc]
		if aws.ToString(p.Value) != want || p.Type != ssmtypes.ParameterTypeString {
			t.Errorf("/%s/images/%s/%s: got %s %q, want String %q", w.project, env, svc, p.Type, aws.ToString(p.Value), want)
		}
	}
}

// TestSSMEraProjectEndToEnd runs a 2019 project whose images are in SSM
// through the CLI as its users ran weco-deploy: validate, prepare from
// latest (13 parameters: two pages), release-deploy to stage, promote to
// prod; SSM holds each image pinned by digest under each environment,
// no ECR tag moved, history and status show it, and a hand-written
// parameter is reported as drift and stops a promotion.
func TestSSMEraProjectEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bin := buildCLI(t)
	w := newSSMWorld(ctx, t, 12)
	env := cliEnv(t, awstest.Endpoint(t), "ci")
	run := func(args ...string) *run {
		t.Helper()
		r := start(t, bin, env, args...)
		if code := r.wait(t); code != exitcode.OK {
			t.Fatalf("buoy %s: exit %d\n%s", strings.Join(args, " "), code, r.output())
		}
		return r
	}

	v := run("validate", "--manifest", w.manifest)
	contains(t, "validate", v.output(), "images from SSM (/"+w.project+"/images/<label>/<image>)", `environment "latest" is ignored`)

	var rel struct {
		ID, Label string
		Images    map[string]history.ImageRef
	}
	p := run(w.args("prepare", "--from-label", "latest", "--output", "json")...)
	if err := json.Unmarshal(p.stdout.Bytes(), &rel); err != nil {
		t.Fatalf("prepare output: %v\n%s", err, p.output())
	}
	if rel.Label != "latest" || len(rel.Images) != len(w.want) {
		t.Fatalf("release: label %q with %d images, want latest with %d", rel.Label, len(rel.Images), len(w.want))
	}
	for svc, want := range w.want {
		ref := rel.Images[svc]
		if got := ref.Repository + "@" + ref.Digest; got != want {
			t.Errorf("release pins %s at %s, want %s", svc, got, want)
		}
		if wantTag := map[bool]string{true: "ref.new", false: ""}[svc != "nginx"]; ref.Tag != wantTag {
			t.Errorf("release records %s's source tag as %q, want %q", svc, ref.Tag, wantTag)
		}
	}

	d := run(w.args("release-deploy", "--environment", "stage")...)
	contains(t, "release-deploy", d.output(), "PARAMETER", "/"+w.project+"/images/stage/svc_00", "written")
	w.checkDeployed(ctx, t, "stage")
	if v := w.params(ctx, t, "stage")["svc_00"].Version; v != 2 {
		t.Errorf("/%s/images/stage/svc_00 is at version %d, want 2 (weco-deploy's, then buoy's)", w.project, v)
	}

	run(w.args("promote", "--environment", "prod", "--from-environment", "stage")...)
	w.checkDeployed(ctx, t, "prod")

	// No tag moved: no repository has an env.* tag.
	ecrc := ecr.NewFromConfig(awstest.Config(t))
	for svc, repo := range w.repos {
		out, err := ecrc.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String(repo), Filter: &ecrtypes.ListImagesFilter{TagStatus: ecrtypes.TagStatusTagged}})
		if err != nil {
			t.Fatalf("ListImages %s: %v", repo, err)
		}
		for _, id := range out.ImageIds {
			if tag := aws.ToString(id.ImageTag); strings.HasPrefix(tag, "env.") {
				t.Errorf("%s (%s) got the tag %s; an SSM-era deployment moves none", svc, repo, tag)
			}
		}
	}

	var hist struct {
		Releases    []history.Release
		Deployments []history.Deployment
	}
	h := run(w.args("history", "--output", "json")...)
	if err := json.Unmarshal(h.stdout.Bytes(), &hist); err != nil {
		t.Fatalf("history output: %v\n%s", err, h.output())
	}
	if len(hist.Deployments) != 2 || len(hist.Releases) != 2 { // prepare's, release-deploy's
		t.Fatalf("history: %d deployments and %d releases, want 2 and 2:\n%s", len(hist.Deployments), len(hist.Releases), h.output())
	}
	for _, dep := range hist.Deployments {
		if dep.Status != history.StatusSucceeded || len(dep.Images) != len(w.want) || len(dep.Services) != 0 {
			t.Errorf("deployment %s to %s: %s with %d images and %d services, want succeeded with %d images and none",
				dep.ID, dep.Environment, dep.Status, len(dep.Images), len(dep.Services), len(w.want))
		}
		mv := dep.Images["svc_00"]
		if mv.Parameter != "/"+w.project+"/images/"+dep.Environment+"/svc_00" || !mv.Moved || !mv.Done || mv.Tag != "" {
			t.Errorf("deployment %s records svc_00 as %+v, want its parameter written", dep.ID, mv)
		}
	}

	var status struct {
		Environments []struct {
			Environment string
			Images      []struct{ Image, Parameter, Published, Recorded string }
			Drift       []string
		}
	}
	s := run(w.args("status", "--output", "json")...)
	if err := json.Unmarshal(s.stdout.Bytes(), &status); err != nil {
		t.Fatalf("status output: %v\n%s", err, s.output())
	}
	for _, es := range status.Environments {
		if len(es.Drift) != 0 || len(es.Images) != len(w.want) {
			t.Errorf("status of %s: drift %v, %d images; want none and %d", es.Environment, es.Drift, len(es.Images), len(w.want))
		}
		for _, is := range es.Images {
			if is.Published != w.want[is.Image] || !strings.HasSuffix(is.Published, "@"+is.Recorded) {
				t.Errorf("status of %s %s: published %q recorded %q, want %q", es.Environment, is.Image, is.Published, is.Recorded, w.want[is.Image])
			}
		}
	}

	// Someone writes stage by hand: status says so, promote refuses.
	w.put(ctx, t, "/"+w.project+"/images/stage/svc_03", ecrURI+w.repos["svc_03"]+":ref.old")
	s = run(w.args("status", "--environment", "stage")...)
	contains(t, "status after a hand-written parameter", s.output(),
		"drift: SSM /"+w.project+"/images/stage/svc_03 holds "+ecrURI+w.repos["svc_03"]+":ref.old, but release ", "pins "+w.want["svc_03"])
	pr := start(t, bin, env, w.args("promote", "--environment", "prod", "--from-environment", "stage")...)
	if code := pr.wait(t); code != exitcode.BadInput {
		t.Errorf("promote from a drifted stage: exit %d, want %d\n%s", code, exitcode.BadInput, pr.output())
	}
	contains(t, "promote from a drifted stage", pr.output(), "has drifted")
}

// TestSSMEraPrepareRefuses: no parameter under the label, a tag-only URI
// outside ECR and a tag ECR does not have are refused (exit 2) with what
// to do, and no release is made.
func TestSSMEraPrepareRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bin := buildCLI(t)
	tests := []struct {
		name, label string
		param       func(w *ssmWorld) (string, string)
		want        []string
	}{
		{"no parameter under the label", "ref.nothing", nil,
			[]string{"no image parameters under /%s/images/ref.nothing in SSM", "--from-label"}},
		{"tag outside ECR", "latest", func(w *ssmWorld) (string, string) {
			return "/" + w.project + "/images/latest/nginx", "nginx:1.27"
		}, []string{"/%s/images/latest/nginx = nginx:1.27 names only a tag, outside ECR", "pinned by digest"}},
		{"tag ECR lacks", "latest", func(w *ssmWorld) (string, string) {
			return "/" + w.project + "/images/latest/svc_00", ecrURI + w.repos["svc_00"] + ":ref.gone"
		}, []string{"image not found: svc_00", ":ref.gone, in /%s/images/latest/svc_00"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newSSMWorld(ctx, t, 1)
			if tc.param != nil {
				name, value := tc.param(w)
				w.put(ctx, t, name, value)
			}
			r := start(t, bin, cliEnv(t, awstest.Endpoint(t), "ci"), w.args("prepare", "--from-label", tc.label)...)
			if code := r.wait(t); code != exitcode.BadInput {
				t.Fatalf("prepare: exit %d, want %d\n%s", code, exitcode.BadInput, r.output())
			}
			for _, want := range tc.want {
				if strings.Contains(want, "%s") {
					want = fmt.Sprintf(want, w.project)
				}
				contains(t, "prepare", r.stderr.String(), want)
			}
			h := start(t, bin, cliEnv(t, awstest.Endpoint(t), "ci"), w.args("history", "--output", "json")...)
			if code := h.wait(t); code != exitcode.OK || !strings.Contains(h.stdout.String(), `"releases": []`) {
				t.Errorf("history after a refused prepare: exit %d\n%s\nwant no release", code, h.output())
			}
		})
	}
}

// TestEveryCallOfAnSSMEraProjectIsInThePolicy runs an SSM-era project
// through the CLI (prepare, release-deploy, promote, status, history)
// behind the fault proxy and checks that every AWS call it made is
// allowed by the policy `buoy iam-policy` prints for its manifest, and
// that the policy allows no ECS update, no tag move and no parameter of
// another project.
func TestEveryCallOfAnSSMEraProjectIsInThePolicy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bin := buildCLI(t)
	w := newSSMWorld(ctx, t, 2)
	p := proxy(t)
	env := cliEnv(t, p.URL(), "ci")
	for _, args := range [][]string{
		w.args("prepare"),
		w.args("release-deploy", "--environment", "stage"),
		w.args("promote", "--environment", "prod", "--from-environment", "stage"),
		w.args("status"),
		w.args("history"),
	} {
		r := start(t, bin, env, args...)
		if code := r.wait(t); code != exitcode.OK {
			t.Fatalf("buoy %s: exit %d\n%s", args[0], code, r.output())
		}
	}
	pol := start(t, bin, cliEnv(t, p.URL(), "ci"), "iam-policy", "--manifest", w.manifest, "--table", w.table,
		"--account-id", awstest.AccountID, "--region", awstest.Region)
	if code := pol.wait(t); code != exitcode.OK {
		t.Fatalf("iam-policy: exit %d\n%s", code, pol.output())
	}
	var policy iampolicy.Document
	if err := json.Unmarshal(pol.stdout.Bytes(), &policy); err != nil {
		t.Fatalf("decode the policy: %v\n%s", err, pol.stdout.String())
	}
	actions, seen := map[string]bool{}, map[string]bool{}
	for _, c := range p.Calls() {
		actions[c.Action()] = true
		for _, res := range resources(t, c) {
			if seen[c.Action()+" "+res] {
				continue
			}
			seen[c.Action()+" "+res] = true
			if !allowed(policy, c.Action(), res) {
				t.Errorf("%s on %s is not allowed by the policy iam-policy prints", c.Action(), res)
			}
		}
	}
	for _, want := range []string{"ssm:GetParametersByPath", "ssm:GetParameters", "ssm:PutParameter", "ecr:BatchGetImage"} {
		if !actions[want] {
			t.Errorf("the run made no %s call; calls: %v", want, actions)
		}
	}
	for _, deny := range [][2]string{
		{"ecs:UpdateService", "arn:aws:ecs:" + awstest.Region + ":" + awstest.AccountID + ":service/any/any"},
		{"ecr:PutImage", "arn:aws:ecr:" + awstest.Region + ":" + awstest.AccountID + ":repository/" + w.repos["svc_00"]},
		{"ssm:PutParameter", "arn:aws:ssm:" + awstest.Region + ":" + awstest.AccountID + ":parameter/another/images/stage/x"},
	} {
		if allowed(policy, deny[0], deny[1]) {
			t.Errorf("the policy allows %s on %s, which an SSM-era project never needs", deny[0], deny[1])
		}
	}
}
