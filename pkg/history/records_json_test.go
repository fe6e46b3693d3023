package history

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// Records stored before the types had JSON tags carry Go field names
// ("ReleaseID", "BuildURL"). Every tag differs from its field name only
// in case, which encoding/json matches, so those records still read.
func TestDecodeRecordWithGoFieldNames(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/deployment-go-field-names.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := decode[Deployment](data)
	if err != nil {
		t.Fatal(err)
	}
	want := Deployment{
		ID: "01JD3XKQ8Z7YV6W5T4S3R2Q1P0", Project: "shop", Environment: "stage", ReleaseID: "01JD3XKQ0A1B2C3D4E5F6G7H8J",
		Resumes: "01JD3XKP0A1B2C3D4E5F6G7H8J", Status: StatusSucceeded,
		StartedAt:   time.Date(2024, 11, 20, 10, 30, 0, 0, time.UTC),
		FinishedAt:  time.Date(2024, 11, 20, 10, 31, 2, 500_000_000, time.UTC),
		RequestedBy: "alice via buildkite", Description: "fix login",
		CI: CI{Provider: "buildkite", BuildURL: "https://buildkite.com/acme/shop/builds/42", Commit: "3f2a9c1e", Actor: "alice"},
		Images: map[string]TagMove{"web": {Repository: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web",
			Tag: "env.stage", From: "sha256:aaaa", To: "sha256:bbbb", Moved: true, Done: true}},
		Services: []ServiceOutcome{{Service: "web", Cluster: "shop-stage", Region: "eu-west-1", ECSDeployment: "ecs-svc/123",
			TaskDefinition:         "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:2",
			PreviousTaskDefinition: "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:1", Outcome: StatusSucceeded}},
		Version: 3,
	}
	got, _ := json.Marshal(d)
	wantJSON, _ := json.Marshal(want)
	if string(got) != string(wantJSON) {
		t.Errorf("decoded:\n got %s\nwant %s", got, wantJSON)
	}
	for _, key := range []string{`"releaseId":`, `"buildUrl":`, `"ecsDeployment":`, `"startedAt":`} {
		if !strings.Contains(string(got), key) {
			t.Errorf("encoded record %s lacks %s", got, key)
		}
	}
}

// A service outcome says adoptedFrom only when the deployment adopted
// a dead run's ECS deployment; records written before the field read
// with it empty (TestDecodeRecordWithGoFieldNames reads one).
func TestAdoptedFromRoundTrips(t *testing.T) {
	t.Parallel()
	in := Deployment{ID: "01JD3XKQ8Z7YV6W5T4S3R2Q1P0", Project: "shop", Environment: "stage",
		Services: []ServiceOutcome{{Service: "web", Cluster: "c", ECSDeployment: "ecs-svc/1", AdoptedFrom: "01JD3XKP0A1B2C3D4E5F6G7H8J"},
			{Service: "api", Cluster: "c", ECSDeployment: "ecs-svc/2"}}}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), `"adoptedFrom":"01JD3XKP0A1B2C3D4E5F6G7H8J"`); n != 1 || strings.Count(string(data), `"adoptedFrom"`) != 1 {
		t.Errorf("encoded: got %s, want adoptedFrom once, on web only", data)
	}
	out, err := decode[Deployment](data)
	if err != nil {
		t.Fatal(err)
	}
	if out.Services[0].AdoptedFrom != in.Services[0].AdoptedFrom || out.Services[1].AdoptedFrom != "" {
		t.Errorf("decoded: got %+v, want %+v", out.Services, in.Services)
	}
}

// A deployment's notifications round-trip with their outcomes, in UTC
// once stored; a deployment that sent none has no "notifications" key
// (records written before the field read with none).
func TestNotificationsRoundTrip(t *testing.T) {
	t.Parallel()
	paris := time.FixedZone("CET", 3600)
	at := time.Date(2026, 11, 22, 11, 30, 0, 0, paris)
	in := Deployment{ID: "01JD3XKQ8Z7YV6W5T4S3R2Q1P0", Project: "shop", Environment: "prod", StartedAt: at,
		Notifications: []Notification{
			{Target: "slack (SLACK_WEBHOOK_URL)", Event: "start", Outcome: NotificationSent, Attempts: 1, At: at},
			{Target: "webhook (HOOK_URL)", Event: "start", Outcome: NotificationFailed, Error: "it answered 500 Internal Server Error (4 tries)", Attempts: 4, At: at},
		}}
	m := NewMemory()
	if err := m.CreateDeployment(t.Context(), &in); err != nil {
		t.Fatal(err)
	}
	out, err := m.GetDeployment(t.Context(), "shop", in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Notifications) != 2 || out.Notifications[1] != (Notification{Target: "webhook (HOOK_URL)", Event: "start", Outcome: NotificationFailed,
		Error: "it answered 500 Internal Server Error (4 tries)", Attempts: 4, At: at.UTC()}) || out.Notifications[0].At.Location() != time.UTC {
		t.Errorf("stored notifications: got %+v, want %+v in UTC", out.Notifications, in.Notifications)
	}
	data, err := json.Marshal(Deployment{ID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "notifications") {
		t.Errorf("a deployment with no notifications encodes %s, want no notifications key", data)
	}
}

// A deployment record says preDeploy only when the environment ran
// pre_deploy tasks; a container that never exited has no exit code, one
// that exited 0 has 0. Records written before the field read with none.
func TestPreDeployRoundTrips(t *testing.T) {
	t.Parallel()
	zero, three := int32(0), int32(3)
	in := Deployment{ID: "01JD3XKQ8Z7YV6W5T4S3R2Q1P0", Project: "shop", Environment: "stage",
		PreDeploy: []TaskRun{{ID: "migrate", Cluster: "c", TaskDefinition: "arn:aws:ecs:eu-west-1:123456789012:task-definition/m:4",
			Task: "arn:aws:ecs:eu-west-1:123456789012:task/c/abc", Outcome: StatusFailed, Reason: "exited 3",
			StopCode: "EssentialContainerExited", StoppedReason: "Essential container in task exited",
			Containers: []TaskContainer{{Name: "app", Essential: true, ExitCode: &three}, {Name: "router", ExitCode: &zero}, {Name: "init", Essential: true}}}}}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"preDeploy":[{"id":"migrate"`, `"exitCode":3`, `"exitCode":0`, `{"name":"init","essential":true}`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("encoded: got %s, want it to hold %s", data, want)
		}
	}
	out, err := decode[Deployment](data)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(out); string(got) != string(data) {
		t.Errorf("round trip:\n got %s\nwant %s", got, data)
	}
	none, _ := json.Marshal(Deployment{ID: "x", Project: "shop", Environment: "stage"})
	if strings.Contains(string(none), "preDeploy") {
		t.Errorf("a record without pre_deploy tasks: got %s, want no preDeploy key", none)
	}
}
