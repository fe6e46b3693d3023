package rollout_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// cleanupServer plays a cluster with app:1..7 ACTIVE (and app-worker:1,
// whose family only starts like app's): service app runs app:7 while
// app:2 still drains, service batch runs app:4.
func cleanupServer(t *testing.T) *ecsfake.Server {
	t.Helper()
	app := func(rev int) string { return ecsfake.TaskDefinitionARN("app", rev) }
	srv := ecsfake.New(t, ecsfake.Supported,
		ecsfake.Service{Name: "app", TaskDefinition: app(7), DesiredCount: 2, Before: ecsfake.Frame{Deployments: []ecsfake.Deployment{
			dep("ecs-svc/7", "PRIMARY", app(7), 2, 0, "COMPLETED"), dep("ecs-svc/2", "ACTIVE", app(2), 1, 0, "COMPLETED")}}},
		ecsfake.Service{Name: "batch", TaskDefinition: app(4), DesiredCount: 1},
	)
	for rev := 1; rev <= 7; rev++ {
		srv.AddTaskDefinitions(ecsfake.TaskDefinition{ARN: app(rev)})
	}
	srv.AddTaskDefinitions(ecsfake.TaskDefinition{ARN: ecsfake.TaskDefinitionARN("app-worker", 1)})
	return srv
}

func shortNames(arns []string) []string {
	var out []string
	for _, a := range arns {
		out = append(out, a[strings.LastIndex(a, "/")+1:])
	}
	return out
}

func TestCleanupNeverDeregistersARevisionInUse(t *testing.T) {
	t.Parallel()
	srv := cleanupServer(t)
	r := rollout.New(srv.Client(), rollout.WithClock(clocktest.NewAuto(ecsfake.T0)))
	// Keep 7 and 6; 4 (batch), 2 (app's draining deployment) and 3
	// (named in use) stay too.
	gone, err := r.Cleanup(context.Background(), rollout.CleanupInput{Family: "app", Keep: 2,
		InUse: []string{ecsfake.TaskDefinitionARN("app", 3)}})
	if err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	want := []string{"app:5", "app:1"}
	if got := shortNames(gone); !slices.Equal(got, want) {
		t.Errorf("deregistered: got %v, want %v", got, want)
	}
	if got := shortNames(srv.Deregistered()); !slices.Equal(got, want) {
		t.Errorf("the server saw deregistered: %v, want %v", got, want)
	}
}

func TestCleanupWithNothingBeyondKeepCallsNothingElse(t *testing.T) {
	t.Parallel()
	srv := cleanupServer(t)
	r := rollout.New(srv.Client(), rollout.WithClock(clocktest.NewAuto(ecsfake.T0)))
	gone, err := r.Cleanup(context.Background(), rollout.CleanupInput{Family: "app", Keep: 7})
	if err != nil || len(gone) != 0 {
		t.Fatalf("Cleanup: got %v, %v; want nothing deregistered", gone, err)
	}
	for _, op := range []string{"ListClusters", "ListServices", "DescribeServices", "ListTasks", "DescribeTasks", "DeregisterTaskDefinition"} {
		if n := srv.Calls(op); n != 0 {
			t.Errorf("%s calls: got %d, want 0", op, n)
		}
	}
}

// TestCleanupReportsEachRevisionItCouldNotDeregister: the first
// deregistration is throttled (the client makes one attempt); the next
// one still happens, and the error names the revision that is left.
func TestCleanupReportsEachRevisionItCouldNotDeregister(t *testing.T) {
	t.Parallel()
	srv := cleanupServer(t)
	srv.Throttle("DeregisterTaskDefinition", 1)
	r := rollout.New(srv.Client(), rollout.WithClock(clocktest.NewAuto(ecsfake.T0)))
	gone, err := r.Cleanup(context.Background(), rollout.CleanupInput{Family: "app", Keep: 2,
		InUse: []string{ecsfake.TaskDefinitionARN("app", 3)}})
	if got := shortNames(gone); !slices.Equal(got, []string{"app:1"}) {
		t.Errorf("deregistered: got %v, want [app:1]", got)
	}
	if err == nil || !strings.Contains(err.Error(), "deregister old task definition app:5") || !rollout.IsThrottle(err) {
		t.Errorf("error: got %v, want one naming app:5 that keeps ECS's throttling error", err)
	}
}

// TestCleanupKeepsWhatTasksRun: a task of no service (a one-off, or one a
// scheduler started) that runs app:5 keeps it; a stopped task's revision
// (app:1) does not count. The running tasks of the family are read with
// ListTasks (by family: another family's task is not described) and
// DescribeTasks.
func TestCleanupKeepsWhatTasksRun(t *testing.T) {
	t.Parallel()
	srv := cleanupServer(t)
	srv.AddTasks(
		ecsfake.Task{TaskArn: "arn:aws:ecs:eu-west-1:123456789012:task/test-cluster/report", TaskDefinitionArn: ecsfake.TaskDefinitionARN("app", 5),
			LastStatus: "RUNNING", DesiredStatus: "RUNNING"},
		ecsfake.Task{TaskArn: "arn:aws:ecs:eu-west-1:123456789012:task/test-cluster/old", TaskDefinitionArn: ecsfake.TaskDefinitionARN("app", 1),
			LastStatus: "STOPPED", DesiredStatus: "STOPPED"},
		ecsfake.Task{TaskArn: "arn:aws:ecs:eu-west-1:123456789012:task/test-cluster/other", TaskDefinitionArn: ecsfake.TaskDefinitionARN("other", 1),
			LastStatus: "RUNNING", DesiredStatus: "RUNNING"},
	)
	r := rollout.New(srv.Client(), rollout.WithClock(clocktest.NewAuto(ecsfake.T0)))
	gone, err := r.Cleanup(context.Background(), rollout.CleanupInput{Family: "app", Keep: 2,
		InUse: []string{ecsfake.TaskDefinitionARN("app", 3)}})
	if err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	if got, want := shortNames(gone), []string{"app:1"}; !slices.Equal(got, want) {
		t.Errorf("deregistered: got %v, want %v", got, want)
	}
	if tasks, _ := srv.DescribedTasks(); tasks != 1 {
		t.Errorf("tasks described: got %d, want 1 (app's running task)", tasks)
	}
	if srv.Calls("ListClusters") != 1 || srv.Calls("ListTasks") != 1 || srv.Calls("DescribeTasks") != 1 {
		t.Errorf("calls: ListClusters %d, ListTasks %d, DescribeTasks %d; want one each",
			srv.Calls("ListClusters"), srv.Calls("ListTasks"), srv.Calls("DescribeTasks"))
	}
}

// TestCleanupDeregistersNothingWhenWhatIsInUseCannotBeRead: when the
// clusters, services or tasks cannot all be read, no revision is
// deregistered, and the error says why.
func TestCleanupDeregistersNothingWhenWhatIsInUseCannotBeRead(t *testing.T) {
	t.Parallel()
	for _, op := range []string{"ListClusters", "ListServices", "DescribeServices", "ListTasks"} {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			srv := cleanupServer(t)
			srv.Throttle(op, 100) // beyond every retry
			r := rollout.New(srv.Client(), rollout.WithClock(clocktest.NewAuto(ecsfake.T0)))
			gone, err := r.Cleanup(context.Background(), rollout.CleanupInput{Family: "app", Keep: 2})
			if err == nil || !strings.Contains(err.Error(), "find the revisions of app in use") || len(gone) != 0 {
				t.Errorf("Cleanup: got %v, %v; want nothing deregistered and an error saying why", gone, err)
			}
			if n := srv.Calls("DeregisterTaskDefinition"); n != 0 {
				t.Errorf("DeregisterTaskDefinition calls: got %d, want 0", n)
			}
		})
	}
}
