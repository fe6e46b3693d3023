package deploy

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// runningTask is a running task of a fixture service whose containers
// report digests, by container name, as images (container name ->
// image); an empty digest is a container that reported none.
func runningTask(service string, n int, images, digests map[string]string) ecsfake.Task {
	t := ecsfake.Task{TaskArn: fmt.Sprintf("arn:aws:ecs:eu-west-1:123456789012:task/demo-stage/%s-%04d", service, n),
		StartedBy: "ecs-svc/0000", LastStatus: "RUNNING", DesiredStatus: "RUNNING"}
	for name, img := range images {
		t.Containers = append(t.Containers, ecsfake.Container{Name: name, Image: img, ImageDigest: digests[name], LastStatus: "RUNNING"})
	}
	return t
}

// statusFixture plays api and worker on the scripted ECS server, each
// running the given tasks, and records stage as running the old digests
// the floating tags point at.
func statusFixture(t *testing.T, running int32, api, worker []ecsfake.Task) (*fixture, *ecsfake.Server) {
	t.Helper()
	svc := func(name, td string, tasks []ecsfake.Task) ecsfake.Service {
		s := scriptedService(name, td)
		s.DesiredCount = running
		s.Before.RunningCount, s.Before.Tasks = running, tasks
		return s
	}
	f, srv := scriptedFixture(t, svc("api", tdAPI, api), svc("worker", tdWorker, worker))
	cur := &history.Current{Project: "demo", Environment: "stage", ReleaseID: "01JREL", DeploymentID: "01JDEP", Images: map[string]history.ImageRef{}}
	for _, img := range f.project.Images {
		cur.Images[img.ID] = history.ImageRef{Repository: ecrHost + img.Repository, Tag: "ref.abc123", Digest: oldDigest(img.ID)}
	}
	if err := f.store.SetCurrent(context.Background(), cur); err != nil {
		t.Fatal(err)
	}
	return f, srv
}

var (
	apiImages    = map[string]string{"app": ecrHost + "demo/api:env.stage", "nginx": ecrHost + "demo/nginx:env.stage"}
	workerImages = map[string]string{"worker": ecrHost + "demo/worker:env.stage"}
	apiOld       = map[string]string{"app": oldDigest("api"), "nginx": oldDigest("nginx")}
	workerOld    = map[string]string{"worker": oldDigest("worker")}
)

func (f *fixture) stageStatus() EnvironmentStatus {
	f.t.Helper()
	rep, err := f.d.Status(context.Background(), StatusInput{Environments: []string{"stage"}})
	if err != nil {
		f.t.Fatalf("Status: %v", err)
	}
	return rep.Environments[0]
}

// TestStatusReadsEveryRunningTask: a service with 250 running tasks, one
// of which (the 201st, past the first two pages of ListTasks) runs
// another digest: status lists every page and describes every task, 100
// at a time (the scripted ECS refuses more, as ECS does), and reports
// the drift; when all 250 run the recorded digests, they agree.
func TestStatusReadsEveryRunningTask(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		odd   int // the task running another digest of api; -1: none
		drift bool
	}{
		{"one task past the first 200 runs another digest", 200, true},
		{"all 250 run the record's digests", -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const n = 250
			var api []ecsfake.Task
			for i := range n {
				digests := apiOld
				if i == tc.odd {
					digests = map[string]string{"app": sha("9999api"), "nginx": oldDigest("nginx")}
				}
				api = append(api, runningTask("api", i, apiImages, digests))
			}
			worker := []ecsfake.Task{runningTask("worker", 0, workerImages, workerOld), runningTask("worker", 1, workerImages, workerOld)}
			worker = append(worker, ecsfake.Task{TaskArn: "arn:aws:ecs:eu-west-1:123456789012:task/demo-stage/stopped",
				StartedBy: "ecs-svc/0000", LastStatus: "STOPPED", DesiredStatus: "STOPPED"})
			f, srv := statusFixture(t, n, api, worker)
			es := f.stageStatus()
			drift := strings.Join(es.Drift, "\n")
			if got := strings.Contains(drift, "service api runs api "+shortDigest(sha("9999api"))+", not the recorded "+shortDigest(oldDigest("api"))); got != tc.drift {
				t.Errorf("drift:\n%s\nnames the 201st task's digest: %v, want %v", drift, got, tc.drift)
			}
			if tasks, pages := srv.DescribedTasks(); tasks != n+2 || pages != 3+1 {
				t.Errorf("described %d tasks in %d ListTasks pages; want all %d running tasks in 4 pages (3 of api's, 1 of worker's)", tasks, pages, n+2)
			}
			wantState := Agrees
			if tc.drift {
				wantState = Drifted
			}
			if es.State != wantState || es.Services[0].State != wantState || es.Services[1].State != Agrees {
				t.Errorf("states: environment %s, api %s, worker %s; want %s, %s, agrees (unknown: %q)",
					es.State, es.Services[0].State, es.Services[1].State, wantState, wantState, es.Unknown)
			}
		})
	}
}

// TestStatusWhenECSDoesNotSayIsUnknown: when no running task reports a
// digest, some do not, or no task runs, status does not say the record
// and ECS agree: the service and the environment are unknown, and
// Unknown says why; a drift elsewhere still makes the environment
// drifted.
func TestStatusWhenECSDoesNotSayIsUnknown(t *testing.T) {
	t.Parallel()
	none := map[string]string{}
	for _, tc := range []struct {
		name        string
		running     int32
		api, worker []ecsfake.Task
		apiState    Agreement
		env         Agreement
		unknown     []string
	}{
		{name: "no task reports a digest", running: 2,
			api:      []ecsfake.Task{runningTask("api", 0, apiImages, none), runningTask("api", 1, apiImages, none)},
			worker:   []ecsfake.Task{runningTask("worker", 0, workerImages, none), runningTask("worker", 1, workerImages, none)},
			apiState: Unknown, env: Unknown,
			unknown: []string{"service api: none of its 2 running tasks reported a digest for api", "reported a digest for nginx",
				"service worker: none of its 2 running tasks reported a digest for worker"}},
		{name: "one task of two reports no digest", running: 2,
			api:      []ecsfake.Task{runningTask("api", 0, apiImages, apiOld), runningTask("api", 1, apiImages, none)},
			worker:   []ecsfake.Task{runningTask("worker", 0, workerImages, workerOld), runningTask("worker", 1, workerImages, workerOld)},
			apiState: Unknown, env: Unknown,
			unknown: []string{"service api: some of its running tasks reported no digest for api"}},
		{name: "no task runs", running: 0,
			apiState: Unknown, env: Unknown,
			unknown: []string{"service api runs no task", "service worker runs no task"}},
		{name: "unknown here, drifted there", running: 2,
			api:      []ecsfake.Task{runningTask("api", 0, apiImages, none), runningTask("api", 1, apiImages, none)},
			worker:   []ecsfake.Task{runningTask("worker", 0, workerImages, map[string]string{"worker": sha("9999worker")})},
			apiState: Unknown, env: Drifted,
			unknown: []string{"service api: none of its 2 running tasks reported a digest for api"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, _ := statusFixture(t, tc.running, tc.api, tc.worker)
			es := f.stageStatus()
			if es.State != tc.env || es.Services[0].State != tc.apiState {
				t.Errorf("states: environment %s, api %s; want %s, %s (drift %q, unknown %q)", es.State, es.Services[0].State, tc.env, tc.apiState, es.Drift, es.Unknown)
			}
			unknown := strings.Join(es.Unknown, "\n")
			for _, want := range tc.unknown {
				if !strings.Contains(unknown, want) {
					t.Errorf("unknown:\n%s\nlacks %q", unknown, want)
				}
			}
			if tc.env == Unknown && len(es.Drift) != 0 {
				t.Errorf("drift: got %q, want none", es.Drift)
			}
		})
	}
}
