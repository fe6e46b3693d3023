//go:build integration

package e2e_test

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/cihost"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/internal/faultproxy"
)

// TestLegacyShapesThroughEveryEntrypoint deploys a weco-deploy project of
// every shape seen in the wild (legacyShapes) through every entrypoint
// (the CLI binary, the GitHub Action's binary, the Buildkite plugin's
// hooks/command), each cell in a world of its own, in an account that
// also holds 220 services of other projects (200 in the main region, 20
// in the second), some tagged for the same environment, some decoys
// tagged with the cells' own service ids for another environment.
//
// Each cell runs, as its users would: validate (the CLI; for the Action
// and the plugin a plan is the check), plan stage, release-deploy prod of
// what it runs now (its first deployment with buoy), release-deploy
// stage from latest, promote prod from stage, rollback prod. After every
// step it checks, with the AWS SDK and not with buoy's readers, that the
// floating tags point where they should, that each service of the
// environment got exactly one new ECS deployment, in its own cluster and
// region (one UpdateService on the wire, and ECS shows a new primary
// deployment, the one the history records) and no other service any,
// that /{project}/images/{environment}/{image} holds the image pinned by
// digest, and that the history table holds one more deployment, with
// the right release, status and services. No crowd service is touched.
func TestLegacyShapesThroughEveryEntrypoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := awstest.Config(t)
	eps := entrypoints(t)

	var cells []*cell
	var decoys []string
	for _, sh := range legacyShapes() {
		for _, ep := range eps {
			x := strings.TrimPrefix(awstest.Name(t, "x"), "x-")
			c := &cell{shape: sh, ep: ep, project: fill(sh.project, x), world: sh.world(x)}
			cells = append(cells, c)
			for _, s := range c.world.Services {
				decoys = append(decoys, s.ID)
			}
		}
	}
	prefix := awstest.Name(t, "crowd")
	crowds := []deployfixture.Crowd{
		{Prefix: prefix, Clusters: 10, Services: 200, Env: "stage", Decoys: decoys},
		{Prefix: prefix + "-dr", Clusters: 2, Services: 20, Env: "stage", Decoys: decoys, Region: secondRegion},
	}
	crowdBefore := map[string]string{}
	for _, cr := range crowds {
		if err := cr.Build(ctx, cfg); err != nil {
			t.Fatalf("build the crowd: %v", err)
		}
		maps.Copy(crowdBefore, primaries(cr.Deployments(ctx, t, cfg)))
	}
	// Every world is built before any cell searches the account: moto's
	// tagging API fails while services are being created.
	for _, c := range cells {
		c.f = deployfixture.Start(ctx, t, cfg, c.world)
	}

	t.Run("matrix", func(t *testing.T) {
		for _, c := range cells {
			t.Run(c.shape.name+"/"+c.ep.name, func(t *testing.T) {
				t.Parallel()
				c.run(ctx, t)
			})
		}
	})

	crowdAfter := map[string]string{}
	for _, cr := range crowds {
		maps.Copy(crowdAfter, primaries(cr.Deployments(ctx, t, cfg)))
	}
	if len(crowdAfter) != 220 {
		t.Errorf("the crowd has %d services, want 220", len(crowdAfter))
	}
	for name, id := range crowdAfter {
		if crowdBefore[name] != id {
			t.Errorf("unrelated service %s was redeployed: primary deployment %s, then %s", name, crowdBefore[name], id)
		}
	}
}

// primaries returns the PRIMARY deployment id of each service.
func primaries(deps map[string][]ecstypes.Deployment) map[string]string {
	out := map[string]string{}
	for name, ds := range deps {
		for _, d := range ds {
			if aws.ToString(d.Status) == "PRIMARY" {
				out[name] = aws.ToString(d.Id)
			}
		}
	}
	return out
}

// step is one command a cell runs.
type step struct {
	name string
	// verb is the command: validate, plan, release-deploy, promote or
	// rollback.
	verb                string
	env, label, fromEnv string
	// runs is the build the environment runs after the step ("old" or
	// "new"); "" when the step changes nothing.
	runs string
}

// legacySteps are what each cell runs, in order. Stage is deployed from
// latest, the label weco-deploy released from by default.
func legacySteps() []step {
	const label = "latest"
	return []step{
		{name: "validate", verb: "validate"},
		{name: "plan stage", verb: "plan", env: "stage", label: label},
		{name: "release-deploy prod of what it runs", verb: "release-deploy", env: "prod", label: "ref." + deployfixture.OldCommit, runs: "old"},
		{name: "release-deploy stage", verb: "release-deploy", env: "stage", label: label, runs: "new"},
		{name: "promote prod", verb: "promote", env: "prod", fromEnv: "stage", runs: "new"},
		{name: "rollback prod", verb: "rollback", env: "prod", runs: "old"},
	}
}

// ran is what an entrypoint's run of a step showed.
type ran struct {
	code int
	// text is what it showed people: the CLI's output, the Action's log
	// and job summary, the plugin's job log and annotations.
	text string
	// status and deployment are the outcome and deployment id it
	// reported to its host (the Action's outputs, the plugin's
	// meta-data); the CLI reports none.
	status, deployment string
	reports            bool
}

// entrypoint runs a step of a cell the way its host runs it.
type entrypoint struct {
	name string
	// validates: it has a validate command (the Action and the plugin
	// check a manifest by planning).
	validates bool
	run       func(t *testing.T, c *cell, s step) ran
}

// entrypoints builds the three entrypoints and returns how each runs a
// step.
func entrypoints(t *testing.T) []entrypoint {
	t.Helper()
	cli := buildCLI(t)
	action := cihost.Build(t, "./action", "buoy-action")
	plugin := cihost.Build(t, "./buildkite-plugin", "buoy-buildkite-plugin")
	return []entrypoint{
		{name: "cli", validates: true, run: func(t *testing.T, c *cell, s step) ran {
			args := []string{s.verb}
			for _, o := range c.options(s) {
				args = append(args, "--"+o[0], o[1])
			}
			r := startIn(t, c.f.Dir, cli, cliEnv(t, c.proxy.URL(), "ci"), args...)
			code := r.wait(t)
			return ran{code: code, text: r.output()}
		}},
		{name: "action", run: func(t *testing.T, c *cell, s step) ran {
			st := cihost.NewGitHubStep(t, action)
			st.Workspace = c.f.Dir
			st.Env = map[string]string{"AWS_ENDPOINT_URL": c.proxy.URL(), "AWS_ACCESS_KEY_ID": "testing",
				"AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": awstest.Region}
			st.Inputs["command"] = s.verb
			for _, o := range c.options(s) {
				st.Inputs[o[0]] = o[1]
			}
			res := st.Run(t)
			return ran{code: res.ExitCode, text: res.Stdout + res.Stderr + "\njob summary:\n" + res.Summary,
				status: res.Outputs["status"], deployment: res.Outputs["deployment-id"], reports: true}
		}},
		{name: "buildkite-plugin", run: func(t *testing.T, c *cell, s step) ran {
			config := map[string]string{"command": s.verb, "binary": plugin}
			for _, o := range c.options(s) {
				config[o[0]] = o[1]
			}
			js, err := json.Marshal(config)
			if err != nil {
				t.Fatal(err)
			}
			job := cihost.RunCommandHook(t, c.f.Dir, string(js), map[string]string{"AWS_ENDPOINT_URL": c.proxy.URL(),
				"AWS_REGION": awstest.Region, "AWS_EC2_METADATA_DISABLED": "true"}, hangGuard)
			text := job.Log
			for _, a := range cihost.Annotations(job.Calls) {
				text += "\nannotation:\n" + a.Stdin
			}
			meta := cihost.MetaData(job.Calls)
			return ran{code: job.Code, text: text, status: meta["buoy:status"], deployment: meta["buoy:deployment-id"], reports: true}
		}},
	}
}

// cell is one shape deployed through one entrypoint.
type cell struct {
	shape   shape
	ep      entrypoint
	project string // the project option; "" for none
	world   *deployfixture.World
	f       *deployfixture.Fixture
	proxy   *faultproxy.Proxy
}

// options are the step's options, named as the Action's inputs and the
// plugin's options are (the CLI's flags have the same names).
func (c *cell) options(s step) [][2]string {
	var out [][2]string
	add := func(k, v string) {
		if v != "" {
			out = append(out, [2]string{k, v})
		}
	}
	add("project", c.project)
	if s.verb != "validate" {
		add("table", c.f.Table)
	}
	add("environment", s.env)
	add("from-label", s.label)
	add("from-environment", s.fromEnv)
	if s.runs != "" {
		add("timeout", "2m")
	}
	return out
}

// run runs every step through the cell's entrypoint and checks what it
// did after each.
func (c *cell) run(ctx context.Context, t *testing.T) {
	c.proxy = proxy(t)
	ex := newExpected(c)
	for _, s := range legacySteps() {
		if s.verb == "validate" && !c.ep.validates {
			continue
		}
		before := c.observe(ctx, t)
		r := c.ep.run(t, c, s)
		if r.code != 0 {
			t.Fatalf("%s: exit %d, want 0\n%s", s.name, r.code, r.text)
		}
		ex.apply(s)
		c.check(ctx, t, s, r, before, ex)
	}
	c.checkReleases(ctx, t)
}
