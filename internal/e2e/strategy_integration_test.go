//go:build integration

package e2e_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/cihost"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/internal/ecsfake"
)

const (
	smokeHook = "arn:aws:lambda:" + awstest.Region + ":" + awstest.AccountID + ":function:smoke-test"
	alarm5xx  = "checkout-5xx"
)

// strategyRun is one release-deploy whose rollout a deployment strategy
// of ECS plays (the scripted ECS server, with the service deployments
// API), and what the test expects of it.
type strategyRun struct {
	name string
	// frames are what ECS shows at each poll of the service's rollout
	// (a service running td), onStop what it shows once buoy asked it to
	// roll back (StopServiceDeployment); rollback is buoy's --rollback.
	frames, onStop func(td string) []ecsfake.Frame
	rollback       bool
	// status is the record's and the Action's and plugin's; shown are
	// what each entrypoint must show people, reason what the record must
	// say.
	status        string
	shown, reason []string
	// moved: the floating tag ends at the release (the rollback, if
	// any, moved it back otherwise).
	moved bool
}

// sdFrame is the service rolling our deployment (ecs-svc/1) of td out,
// its service deployment in status at stage, with the new revision at
// prod percent of production traffic and test percent of test traffic.
func sdFrame(td, status, stage string, cfg *ecsfake.DeploymentConfiguration, prod, test float64) ecsfake.Frame {
	return ecsfake.Frame{
		Deployments:  []ecsfake.Deployment{ecsDeployment("ecs-svc/1", "PRIMARY", td, 1, "IN_PROGRESS"), ecsDeployment("ecs-svc/0", "ACTIVE", td, 2, "COMPLETED")},
		RunningCount: 3,
		Deployment: &ecsfake.ServiceDeployment{Status: status, LifecycleStage: stage, DeploymentConfiguration: cfg,
			TargetServiceRevision: &ecsfake.ServiceRevisionSummary{RequestedTaskCount: 2, RunningTaskCount: 1,
				RequestedProductionTrafficWeight: ecsfake.Percent(prod), RequestedTestTrafficWeight: ecsfake.Percent(test)}},
	}
}

// rolledBackFrames are ECS rolling ecs-svc/1, deployed with cfg, back to
// the deployment of td that ran before, then done.
func rolledBackFrames(td string, cfg *ecsfake.DeploymentConfiguration) []ecsfake.Frame {
	back := func(status string, running int32, state string) ecsfake.Frame {
		return ecsfake.Frame{Deployments: []ecsfake.Deployment{ecsDeployment("ecs-svc/2", "PRIMARY", td, running, state)}, RunningCount: 2,
			Deployment: &ecsfake.ServiceDeployment{Status: status, LifecycleStage: "PRODUCTION_TRAFFIC_SHIFT", DeploymentConfiguration: cfg,
				TargetServiceRevision: &ecsfake.ServiceRevisionSummary{RequestedProductionTrafficWeight: ecsfake.Percent(0)},
				Rollback:              &ecsfake.Rollback{Reason: "Stopped by a user with stopType ROLLBACK."}}}
	}
	return []ecsfake.Frame{back("ROLLBACK_IN_PROGRESS", 1, "IN_PROGRESS"), back("ROLLBACK_SUCCESSFUL", 2, "COMPLETED")}
}

func strategyRuns() []strategyRun {
	canary := &ecsfake.DeploymentConfiguration{Strategy: "CANARY",
		CanaryConfiguration: &ecsfake.CanaryConfiguration{CanaryPercent: 10, CanaryBakeTimeInMinutes: 15},
		Alarms:              &ecsfake.DeploymentAlarms{AlarmNames: []string{alarm5xx}, Enable: true, Rollback: true}}
	blueGreen := &ecsfake.DeploymentConfiguration{Strategy: "BLUE_GREEN",
		LifecycleHooks: []ecsfake.DeploymentLifecycleHook{{HookTargetArn: smokeHook, TargetType: "AWS_LAMBDA", LifecycleStages: []string{"POST_TEST_TRAFFIC_SHIFT"}}}}
	return []strategyRun{
		{
			// The alarm fires during the canary's bake; buoy fails the
			// rollout at the poll that shows it and, with --rollback, has
			// ECS roll the canary back (StopServiceDeployment, ROLLBACK).
			name: "canary alarm during the bake, rolled back by ECS",
			frames: func(td string) []ecsfake.Frame {
				baking := sdFrame(td, "IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", canary, 10, 0)
				alarmed := baking
				sd := *baking.Deployment
				sd.Alarms = &ecsfake.ServiceDeploymentAlarms{Status: "TRIGGERED", AlarmNames: []string{alarm5xx}, TriggeredAlarmNames: []string{alarm5xx}}
				alarmed.Deployment = &sd
				return []ecsfake.Frame{baking, alarmed}
			},
			onStop:   func(td string) []ecsfake.Frame { return rolledBackFrames(td, canary) },
			rollback: true,
			status:   "rolled-back",
			shown: []string{"the canary bake at 10% of production traffic: 15m left of 15m", "CloudWatch alarm in ALARM: " + alarm5xx,
				"CloudWatch alarm " + alarm5xx + " went into ALARM during the canary bake at 10% of production traffic (stage PRODUCTION_TRAFFIC_SHIFT)",
				"CANARY deployment ecs-svc/1, ROLLBACK_IN_PROGRESS: stage PRODUCTION_TRAFFIC_SHIFT", "the new revision serves 0% of production traffic",
				"ECS rolled deployment ecs-svc/1 back (ROLLBACK_SUCCESSFUL)"},
			reason: []string{"CloudWatch alarm " + alarm5xx + " went into ALARM during the canary bake", "ECS rolled back", "itself (StopServiceDeployment, stopType ROLLBACK)"},
		},
		{
			// The smoke test ECS runs once test traffic reaches the new
			// revision fails; ECS rolls back, buoy names the hook and
			// its stage.
			name: "blue/green lifecycle hook fails",
			frames: func(td string) []ecsfake.Frame {
				hook := func(status string) ecsfake.Frame {
					f := sdFrame(td, "IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT", blueGreen, 0, 100)
					f.Deployment.LifecycleHookDetails = []ecsfake.LifecycleHookDetail{{HookID: "hook-1", TargetType: "AWS_LAMBDA", TargetArn: smokeHook, Status: status}}
					return f
				}
				return []ecsfake.Frame{hook("IN_PROGRESS"), hook("FAILED")}
			},
			status: "failed",
			shown: []string{"lifecycle hook " + smokeHook + " IN_PROGRESS at stage POST_TEST_TRAFFIC_SHIFT",
				"deployment ecs-svc/1: lifecycle hook " + smokeHook + " FAILED at stage POST_TEST_TRAFFIC_SHIFT; ECS rolls it back"},
			reason: []string{"lifecycle hook " + smokeHook + " FAILED at stage POST_TEST_TRAFFIC_SHIFT"},
			moved:  true,
		},
	}
}

// strategyEntrypoint runs a release-deploy of f the way a host runs an
// entrypoint, ECS at ecsURL, and returns what it showed.
type strategyEntrypoint struct {
	name string
	run  func(t *testing.T, f *deployfixture.Fixture, ecsURL string, rollback bool) ran
}

func strategyEntrypoints(t *testing.T) []strategyEntrypoint {
	t.Helper()
	cli := buildCLI(t)
	action := cihost.Build(t, "./action", "buoy-action")
	plugin := cihost.Build(t, "./buildkite-plugin", "buoy-buildkite-plugin")
	return []strategyEntrypoint{
		{"cli", func(t *testing.T, f *deployfixture.Fixture, ecsURL string, rollback bool) ran {
			args := deployArgs(f, "--from-label", "latest")
			if rollback {
				args = append(args, "--rollback")
			}
			r := start(t, cli, cliEnv(t, awstest.Endpoint(t), "ci", "AWS_ENDPOINT_URL_ECS="+ecsURL), args...)
			return ran{code: r.wait(t), text: r.output()}
		}},
		{"action", func(t *testing.T, f *deployfixture.Fixture, ecsURL string, rollback bool) ran {
			st := cihost.NewGitHubStep(t, action)
			st.Workspace = f.Dir
			st.Env = map[string]string{"AWS_ENDPOINT_URL": awstest.Endpoint(t), "AWS_ENDPOINT_URL_ECS": ecsURL,
				"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": awstest.Region}
			for k, v := range map[string]string{"command": "release-deploy", "environment": deployfixture.Environment,
				"from-label": "latest", "table": f.Table, "timeout": "1m"} {
				st.Inputs[k] = v
			}
			if rollback {
				st.Inputs["rollback-on-failure"] = "true"
			}
			res := st.Run(t)
			return ran{code: res.ExitCode, text: res.Stdout + res.Stderr + "\njob summary:\n" + res.Summary,
				status: res.Outputs["status"], deployment: res.Outputs["deployment-id"], reports: true}
		}},
		{"buildkite-plugin", func(t *testing.T, f *deployfixture.Fixture, ecsURL string, rollback bool) ran {
			js, err := json.Marshal(map[string]any{"command": "release-deploy", "binary": plugin, "environment": deployfixture.Environment,
				"from-label": "latest", "table": f.Table, "timeout": "1m", "rollback-on-failure": rollback})
			if err != nil {
				t.Fatal(err)
			}
			job := cihost.RunCommandHook(t, f.Dir, string(js), map[string]string{"AWS_ENDPOINT_URL": awstest.Endpoint(t),
				"AWS_ENDPOINT_URL_ECS": ecsURL, "AWS_REGION": awstest.Region, "AWS_EC2_METADATA_DISABLED": "true"}, hangGuard)
			text := job.Log
			for _, a := range cihost.Annotations(job.Calls) {
				text += "\nannotation:\n" + a.Stdin
			}
			meta := cihost.MetaData(job.Calls)
			return ran{code: job.Code, text: text, status: meta["buoy:status"], deployment: meta["buoy:deployment-id"], reports: true}
		}},
	}
}

// strategyRecord is the part of a deployment record these tests read,
// decoded with the SDK from the item's data attribute.
type strategyRecord struct {
	Status, Reason string
	Services       []struct{ Service, Outcome, Reason string }
}

// TestStrategyFailuresThroughEveryEntrypoint runs a release-deploy
// through the CLI, the GitHub Action's binary and the Buildkite plugin's
// hooks/command, ECS played by the scripted server with ECS's deployment
// strategies (ECR and DynamoDB on moto): a CANARY whose CloudWatch alarm
// fires during the canary bake, rolled back by ECS at buoy's request
// (--rollback, rollback-on-failure), and a BLUE_GREEN whose lifecycle
// hook fails. Each entrypoint exits 1 and shows the bake time, the alarm
// or the hook, and the stage; the record (read with the SDK) names them
// too; StopServiceDeployment(ROLLBACK) reaches ECS only with the
// rollback, and the floating tag is moved back then.
func TestStrategyFailuresThroughEveryEntrypoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, ep := range strategyEntrypoints(t) {
		for _, sc := range strategyRuns() {
			t.Run(ep.name+"/"+sc.name, func(t *testing.T) {
				t.Parallel()
				f := deployfixture.New(ctx, t, awstest.Config(t), deployfixture.Options{Images: 1})
				img := f.Images[0]
				td := *f.ECSDeployments(ctx, t)[img.Service][0].TaskDefinition
				update := ecsfake.Frame{Deployments: []ecsfake.Deployment{ecsDeployment("ecs-svc/1", "PRIMARY", td, 0, "IN_PROGRESS"),
					ecsDeployment("ecs-svc/0", "ACTIVE", td, 2, "COMPLETED")}, RunningCount: 2}
				svc := ecsfake.Service{Name: img.Service, TaskDefinition: td, DesiredCount: 2,
					Before: ecsfake.Frame{Deployments: []ecsfake.Deployment{ecsDeployment("ecs-svc/0", "PRIMARY", td, 2, "COMPLETED")}, RunningCount: 2},
					Update: update, Frames: sc.frames(td)}
				if sc.onStop != nil {
					svc.OnStop = sc.onStop(td)
				}
				fake := ecsfake.New(t, ecsfake.Supported, svc)

				r := ep.run(t, f, fake.WithTaskDefinitionsAt(t, awstest.Endpoint(t)), sc.rollback)
				if r.code != 1 {
					t.Fatalf("exit %d, want 1\n%s", r.code, r.text)
				}
				if r.reports && r.status != sc.status {
					t.Errorf("status reported to the host: got %q, want %q", r.status, sc.status)
				}
				contains(t, ep.name+"'s output", r.text, sc.shown...)

				recs := historyItems(ctx, t, f.Table, f.Project, "DEPLOY#")
				if len(recs) != 1 {
					t.Fatalf("history: got %d deployment records, want 1", len(recs))
				}
				var rec strategyRecord
				decodeData(t, recs[0], &rec)
				if rec.Status != sc.status {
					t.Errorf("record: status %q, want %s", rec.Status, sc.status)
				}
				all := rec.Reason
				for _, s := range rec.Services {
					all += "\n" + s.Service + ": " + s.Reason
				}
				contains(t, "the record", all, sc.reason...)

				stops, wantStops := fake.Stops(img.Service), 0
				if sc.rollback {
					wantStops = 1
				}
				if len(stops) != wantStops {
					t.Errorf("StopServiceDeployment calls: got %d, want %d", len(stops), wantStops)
				}
				for _, s := range stops {
					if s["stopType"] != "ROLLBACK" || s["serviceDeploymentArn"] != ecsfake.DeploymentARN(img.Service) {
						t.Errorf("StopServiceDeployment %v, want stopType ROLLBACK of %s", s, ecsfake.DeploymentARN(img.Service))
					}
				}
				if n := len(fake.Updates(img.Service)); n != 1 {
					t.Errorf("UpdateService calls: got %d, want 1 (ECS, not buoy, rolls back)", n)
				}
				want := img.Old
				if sc.moved {
					want = img.New
				}
				if got := f.TagDigest(ctx, t, img.Repository, deployfixture.FloatingTag); got != want {
					t.Errorf("%s:%s: got %s, want %s", img.Repository, deployfixture.FloatingTag, got, want)
				}
			})
		}
	}
}
