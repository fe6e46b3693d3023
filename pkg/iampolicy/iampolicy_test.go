package iampolicy

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// TestIAMPolicyNamesTheHistoryTableWhereItIsUsed: the policy allows the
// history table where Open keeps it, in the caller's account and the
// region deploy.StoreConfig picks (the caller's base region, else the
// registry's), never in the registry's account; an unknown account is *.
func TestIAMPolicyNamesTheHistoryTableWhereItIsUsed(t *testing.T) {
	t.Parallel()
	p := &manifest.Project{ID: "demo", Images: []*manifest.Image{{ID: "api", Repository: "demo/api"}},
		Environments: []*manifest.Environment{{ID: "stage", Tag: "env.stage", Targets: []manifest.Target{{Cluster: "demo-stage"}}}}}
	p.Registry = manifest.Registry{AccountID: "111111111111", Region: "us-east-1", RoleARN: "arn:aws:iam::111111111111:role/ecr"}
	for _, tc := range []struct {
		name                    string
		account, region         string
		wantAccount, wantRegion string
	}{
		{"caller's account and region", "222222222222", "eu-west-1", "222222222222", "eu-west-1"},
		{"caller's account unknown", "", "eu-west-1", "*", "eu-west-1"},
		{"no base region: the registry's, as StoreConfig", "222222222222", "", "222222222222", "us-east-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc := Build(Input{Project: p, AccountID: tc.account, Region: tc.region, Init: true})
			if used := deploy.StoreConfig(aws.Config{Region: tc.region}, p).Region; used != tc.wantRegion {
				t.Fatalf("the table is used in %s (deploy.StoreConfig), but the test wants the policy to name %s", used, tc.wantRegion)
			}
			want := "arn:aws:dynamodb:" + tc.wantRegion + ":" + tc.wantAccount + ":table/buoy-history"
			for _, sid := range []string{"KeepHistory", "CreateHistoryTable"} {
				st := statement(doc, sid)
				if st == nil || !slices.Contains(st.Resource, want) {
					t.Errorf("%s statement: got %+v, want it on %s", sid, st, want)
				}
			}
			if st := statement(doc, "KeepHistory"); st != nil && !slices.Contains(st.Resource, want+"/index/*") {
				t.Errorf("KeepHistory statement: got %v, want %s/index/* too", st.Resource, want)
			}
		})
	}
}

func statement(doc Document, sid string) *Statement {
	for i := range doc.Statement {
		if doc.Statement[i].Sid == sid {
			return &doc.Statement[i]
		}
	}
	return nil
}

// TestIAMPolicyAllowsTheClusterSearchOnlyWhereATargetNeedsIt: a target
// with no cluster (find_by_tags) needs tag:GetResources and
// ecs:ListClusters, which take no resource-level permissions; a project
// whose targets all name their cluster gets neither.
func TestIAMPolicyAllowsTheClusterSearchOnlyWhereATargetNeedsIt(t *testing.T) {
	t.Parallel()
	project := func(cluster string) *manifest.Project {
		return &manifest.Project{ID: "p", Images: []*manifest.Image{{ID: "api", Repository: "p/api"}},
			Environments: []*manifest.Environment{{ID: "stage", FindByTags: cluster == "",
				Targets: []manifest.Target{{Cluster: cluster, Region: "eu-west-1"}}}}}
	}
	for _, tc := range []struct {
		cluster string
		want    bool
	}{{"stage-cluster", false}, {"", true}} {
		doc := Build(Input{Project: project(tc.cluster), AccountID: "123456789012"})
		var search *Statement
		for i, st := range doc.Statement {
			if slices.Contains(st.Action, "tag:GetResources") || slices.Contains(st.Action, "ecs:ListClusters") {
				search = &doc.Statement[i]
			}
		}
		switch {
		case !tc.want && search != nil:
			t.Errorf("cluster %q: the policy allows %v, which buoy does not call for it", tc.cluster, search.Action)
		case tc.want && (search == nil || !slices.Equal(search.Action, []string{"tag:GetResources", "ecs:ListClusters"}) ||
			!slices.Equal(search.Resource, []string{"*"})):
			t.Errorf("no cluster: got statement %+v, want tag:GetResources and ecs:ListClusters on *", search)
		}
	}
}

func TestIAMPolicyReadsTheWecoTableOnlyWhenThereIsOne(t *testing.T) {
	t.Parallel()
	p := &manifest.Project{ID: "demo", Images: []*manifest.Image{{ID: "api", Repository: "demo/api"}}}
	p.Registry = manifest.Registry{Region: "eu-west-1", RoleARN: "arn:aws:iam::760097843905:role/catalogue-ci"}
	find := func(doc Document) *Statement {
		for i, st := range doc.Statement {
			if st.Sid == "ReadWecoDeployHistory" {
				return &doc.Statement[i]
			}
		}
		return nil
	}
	if st := find(Build(Input{Project: p})); st != nil {
		t.Errorf("without a weco-deploy table: got %+v, want no statement", st)
	}
	st := find(Build(Input{Project: p, WecoTable: "wellcome-releases-demo"}))
	want := []string{"arn:aws:dynamodb:eu-west-1:760097843905:table/wellcome-releases-demo", "arn:aws:dynamodb:eu-west-1:760097843905:table/wellcome-releases-demo/index/*"}
	if st == nil || !slices.Equal(st.Action, []string{"dynamodb:Query"}) || !slices.Equal(st.Resource, want) {
		t.Errorf("with a weco-deploy table: got %+v, want dynamodb:Query on %v", st, want)
	}
}

// TestIAMPolicyReadsWhatUsesRevisionsOnlyWithKeepRevisions: an
// environment of the task-definition strategy with keep_revisions needs to
// list every cluster, describe every service and read the EventBridge
// rules (none of which it can scope to its own clusters) before it
// deregisters a revision; without keep_revisions the policy allows none
// of that.
func TestIAMPolicyReadsWhatUsesRevisionsOnlyWithKeepRevisions(t *testing.T) {
	t.Parallel()
	for _, keep := range []int{0, 10} {
		p := &manifest.Project{ID: "p", Images: []*manifest.Image{{ID: "api", Repository: "p/api"}},
			Environments: []*manifest.Environment{{ID: "prod", Strategy: manifest.StrategyTaskDefinition, KeepRevisions: keep,
				Targets: []manifest.Target{{Cluster: "prod", Region: "eu-west-1"}}}}}
		var found *Statement
		doc := Build(Input{Project: p, AccountID: "123456789012"})
		for i, st := range doc.Statement {
			if st.Sid == "FindRevisionsInUseBeforeCleanup" {
				found = &doc.Statement[i]
			}
		}
		want := []string{"ecs:ListClusters", "ecs:DescribeServices", "events:ListEventBuses", "events:ListRules", "events:ListTargetsByRule"}
		switch {
		case keep == 0 && found != nil:
			t.Errorf("without keep_revisions: the policy allows %v", found.Action)
		case keep > 0 && (found == nil || !slices.Equal(found.Action, want) || !slices.Equal(found.Resource, []string{"*"})):
			t.Errorf("keep_revisions %d: got statement %+v, want %v on *", keep, found, want)
		}
	}
}

// TestIAMPolicyRunsPreDeployTasksOnlyWhenConfigured: an environment with
// pre_deploy tasks adds RunTask of their task definitions (the family's
// revisions; any for a task that runs a service's) in their clusters,
// GetLogEvents in the tasks' account, and keeps DescribeTasks and
// iam:PassRole to ECS tasks (the task's roles); a project without them
// gets neither statement.
func TestIAMPolicyRunsPreDeployTasksOnlyWhenConfigured(t *testing.T) {
	t.Parallel()
	project := func(tasks ...*manifest.PreDeployTask) *manifest.Project {
		return &manifest.Project{ID: "shop", Images: []*manifest.Image{{ID: "web", Repository: "shop/web", Services: []string{"web"}}},
			Services: []*manifest.Service{{ID: "web"}},
			Environments: []*manifest.Environment{
				{ID: "stage", Tag: "env.stage", Targets: []manifest.Target{{Cluster: "shop-stage"}}, PreDeploy: tasks},
				{ID: "prod", Tag: "env.prod", Targets: []manifest.Target{{Cluster: "shop-prod", Region: "us-east-1",
					RoleARN: "arn:aws:iam::222222222222:role/deploy"}}, PreDeploy: tasks},
			}}
	}
	without := Build(Input{Project: project(), AccountID: "111111111111", Region: "eu-west-1"})
	for _, sid := range []string{"RunPreDeployTasks", "ReadFailedPreDeployTaskLogs"} {
		if st := statement(without, sid); st != nil {
			t.Errorf("a project without pre_deploy tasks: got statement %+v", st)
		}
	}
	doc := Build(Input{Project: project(&manifest.PreDeployTask{ID: "migrate", TaskDefinition: "shop-migrate"},
		&manifest.PreDeployTask{ID: "seed", Service: "web"}), AccountID: "111111111111", Region: "eu-west-1"})
	run := statement(doc, "RunPreDeployTasks")
	if run == nil {
		t.Fatal("no RunPreDeployTasks statement")
	}
	wantTDs := []string{"arn:aws:ecs:eu-west-1:111111111111:task-definition/shop-migrate:*", "arn:aws:ecs:eu-west-1:111111111111:task-definition/*",
		"arn:aws:ecs:us-east-1:222222222222:task-definition/shop-migrate:*", "arn:aws:ecs:us-east-1:222222222222:task-definition/*"}
	if !slices.Equal(run.Action, []string{"ecs:RunTask"}) || !slices.Equal(run.Resource, wantTDs) {
		t.Errorf("RunPreDeployTasks: got %v on %v, want ecs:RunTask on %v", run.Action, run.Resource, wantTDs)
	}
	wantClusters := []string{"arn:aws:ecs:eu-west-1:111111111111:cluster/shop-stage", "arn:aws:ecs:us-east-1:222222222222:cluster/shop-prod"}
	if got := run.Condition["ArnLike"].(map[string][]string)["ecs:cluster"]; !slices.Equal(got, wantClusters) {
		t.Errorf("RunPreDeployTasks condition: got %v, want the clusters %v", got, wantClusters)
	}
	logs := statement(doc, "ReadFailedPreDeployTaskLogs")
	if want := []string{"arn:aws:logs:*:111111111111:log-group:*", "arn:aws:logs:*:222222222222:log-group:*"}; logs == nil ||
		!slices.Equal(logs.Action, []string{"logs:GetLogEvents"}) || !slices.Equal(logs.Resource, want) {
		t.Errorf("ReadFailedPreDeployTaskLogs: got %+v, want logs:GetLogEvents on %v", logs, want)
	}
	if st := statement(doc, "ReadTasksAndTaskDefinitions"); st == nil || !slices.Contains(st.Action, "ecs:DescribeTasks") || !slices.Contains(st.Action, "ecs:RegisterTaskDefinition") {
		t.Errorf("ReadTasksAndTaskDefinitions: got %+v, want ecs:DescribeTasks and ecs:RegisterTaskDefinition", st)
	}
	pass := statement(doc, "PassTaskRolesToPinnedTaskDefinitions")
	if pass == nil || !slices.Equal(pass.Action, []string{"iam:PassRole"}) ||
		pass.Condition["StringEquals"].(map[string]string)["iam:PassedToService"] != "ecs-tasks.amazonaws.com" {
		t.Errorf("PassTaskRolesToPinnedTaskDefinitions: got %+v, want iam:PassRole to ecs-tasks.amazonaws.com", pass)
	}
}
