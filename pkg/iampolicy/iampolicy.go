// Package iampolicy writes the least-privilege IAM policy for deploying a
// project with buoy: only the AWS operations buoy calls (Permissions, the
// one list of them), on the project's repositories, clusters, history
// table, SSM parameters and roles.
package iampolicy

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/buoy-deploy/buoy/pkg/awsconfig"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// Permission is one AWS operation buoy calls and the IAM action that
// allows it. Permissions is the one list of them: the policy Build makes
// is made from it, and a test can check every call counted in a
// deployment's Stats against it.
type Permission struct {
	// Operation is the call as deploy.Result.Stats names it, e.g.
	// "ECS.UpdateService".
	Operation string
	// Action is the IAM action, e.g. "ecs:UpdateService".
	Action string
	// Resource is the kind of resource it applies to: "repository",
	// "ecs-service" (scoped to the targets' services), "ecs" (actions
	// without resource-level permissions), "pre-deploy" (running an
	// environment's pre_deploy tasks: their task definitions, in their
	// clusters), "pre-deploy-logs" (reading what a failed one wrote),
	// "cluster-search" (finding
	// services by tags across the clusters of an account, for targets
	// with no cluster), "revision-cleanup" (finding what uses a task
	// definition revision in every cluster and EventBridge rule before
	// keep_revisions deregisters old ones), "table", "table-init", "ssm",
	// "role" or "weco-table" (reading weco-deploy's past, see
	// deploy.WecoTableName).
	Resource string
}

// Permissions returns every AWS operation buoy calls.
func Permissions() []Permission {
	return []Permission{
		{"ECR.BatchGetImage", "ecr:BatchGetImage", "repository"},
		{"ECR.PutImage", "ecr:PutImage", "repository"},
		{"ECR.DescribeRepositories", "ecr:DescribeRepositories", "repository"},
		// buoy metrics: when each deployed image was pushed (lead time).
		{"ECR.DescribeImages", "ecr:DescribeImages", "repository"},

		{"ECS.ListServices", "ecs:ListServices", "ecs"},
		{"ECS.DescribeServices", "ecs:DescribeServices", "ecs-service"},
		{"ECS.UpdateService", "ecs:UpdateService", "ecs-service"},
		{"ECS.DescribeTaskDefinition", "ecs:DescribeTaskDefinition", "ecs"},
		{"ECS.RegisterTaskDefinition", "ecs:RegisterTaskDefinition", "ecs"},
		{"ECS.DeregisterTaskDefinition", "ecs:DeregisterTaskDefinition", "ecs"},
		{"ECS.ListTaskDefinitions", "ecs:ListTaskDefinitions", "ecs"},
		{"ECS.TagResource", "ecs:TagResource", "ecs"},
		{"ECS.ListTasks", "ecs:ListTasks", "ecs"},
		{"ECS.DescribeTasks", "ecs:DescribeTasks", "ecs"},
		{"ECS.ListServiceDeployments", "ecs:ListServiceDeployments", "ecs-service"},
		{"ECS.DescribeServiceDeployments", "ecs:DescribeServiceDeployments", "ecs-service"},
		// --rollback asks ECS to roll a failed deployment back itself.
		{"ECS.StopServiceDeployment", "ecs:StopServiceDeployment", "ecs-service"},

		{"ECS.RunTask", "ecs:RunTask", "pre-deploy"},
		{"CloudWatchLogs.GetLogEvents", "logs:GetLogEvents", "pre-deploy-logs"},

		{"ResourceGroupsTaggingAPI.GetResources", "tag:GetResources", "cluster-search"},
		{"ECS.ListClusters", "ecs:ListClusters", "cluster-search"},

		{"ECS.ListClusters", "ecs:ListClusters", "revision-cleanup"},
		{"ECS.DescribeServices", "ecs:DescribeServices", "revision-cleanup"},
		{"EventBridge.ListEventBuses", "events:ListEventBuses", "revision-cleanup"},
		{"EventBridge.ListRules", "events:ListRules", "revision-cleanup"},
		{"EventBridge.ListTargetsByRule", "events:ListTargetsByRule", "revision-cleanup"},

		{"DynamoDB.GetItem", "dynamodb:GetItem", "table"},
		{"DynamoDB.PutItem", "dynamodb:PutItem", "table"},
		{"DynamoDB.DeleteItem", "dynamodb:DeleteItem", "table"},
		// buoy unlock frees a lock and records it in one transaction,
		// which IAM authorises as the PutItem and DeleteItem it holds.
		{"DynamoDB.TransactWriteItems", "dynamodb:PutItem", "table"},
		{"DynamoDB.TransactWriteItems", "dynamodb:DeleteItem", "table"},
		{"DynamoDB.Query", "dynamodb:Query", "table"},
		{"DynamoDB.CreateTable", "dynamodb:CreateTable", "table-init"},
		{"DynamoDB.DescribeTable", "dynamodb:DescribeTable", "table-init"},
		{"DynamoDB.Query", "dynamodb:Query", "weco-table"},

		{"SSM.GetParameters", "ssm:GetParameters", "ssm"},
		{"SSM.GetParametersByPath", "ssm:GetParametersByPath", "ssm"},
		{"SSM.PutParameter", "ssm:PutParameter", "ssm"},

		{"STS.AssumeRole", "sts:AssumeRole", "role"},
	}
}

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a Document.
type Statement struct {
	Sid       string         `json:"Sid"`
	Effect    string         `json:"Effect"`
	Action    []string       `json:"Action"`
	Resource  []string       `json:"Resource"`
	Condition map[string]any `json:"Condition,omitempty"`
}

// Input says what Build covers.
type Input struct {
	Project *manifest.Project
	// Table is the history table ("" means deploy.DefaultTable).
	Table string
	// AccountID and Region are the caller's: the account of the
	// credentials buoy runs with and its base region. They fill ARNs
	// where the manifest leaves them empty, and name the history table,
	// which is used with the caller's credentials in the base region (the
	// registry's when Region is empty), as deploy.StoreConfig says. "" becomes
	// "*".
	AccountID string
	Region    string
	// Init includes creating the table (buoy init).
	Init bool
	// WecoTable is the weco-deploy table status and history read
	// (deploy.WecoTableName); "" reads none.
	WecoTable string
}

// Build returns the least-privilege policy for deploying a project to
// all its environments: only the actions in Permissions, on the project's
// repositories, clusters, history table, SSM parameters and roles.
func Build(in Input) Document {
	p := in.Project
	or := func(s, def string) string {
		if s != "" {
			return s
		}
		if def != "" {
			return def
		}
		return "*"
	}
	actions := func(kind string) []string {
		var out []string
		for _, perm := range Permissions() {
			if perm.Resource == kind {
				out = appendUnique(out, perm.Action)
			}
		}
		return out
	}
	doc := Document{Version: "2012-10-17"}

	if p.SSMImages != nil {
		// The images are wherever CI's parameters point: buoy only reads
		// them, to pin a tag by digest.
		doc.Statement = append(doc.Statement, Statement{Sid: "PinImagesFromSSM", Effect: "Allow",
			Action: []string{"ecr:BatchGetImage"}, Resource: []string{"arn:aws:ecr:*:*:repository/*"}})
	} else {
		var repos []string
		for _, img := range p.Images {
			acct := or(img.Registry.AccountID, or(p.Registry.AccountID, in.AccountID))
			region := or(img.Registry.Region, or(p.Registry.Region, in.Region))
			repos = appendUnique(repos, fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", region, acct, img.Repository))
		}
		doc.Statement = append(doc.Statement, Statement{Sid: "ReadAndMoveImageTags", Effect: "Allow",
			Action: actions("repository"), Resource: repos})
	}

	var ecsRes, roles []string
	ssm, search, cleanup := false, false, false
	for _, env := range p.Environments {
		ssm = ssm || env.PublishSSM || env.Strategy == manifest.StrategySSM
		cleanup = cleanup || (env.Strategy == manifest.StrategyTaskDefinition && env.KeepRevisions > 0)
		for _, t := range env.Targets {
			search = search || t.Cluster == ""
			region, acct, cluster := or(t.Region, in.Region), or(awsconfig.AccountOfRole(t.RoleARN), in.AccountID), t.Cluster
			if strings.HasPrefix(cluster, "arn:") {
				parts := strings.Split(cluster, ":")
				region, acct, cluster = parts[3], parts[4], strings.TrimPrefix(parts[5], "cluster/")
			}
			if cluster == "" {
				cluster = "*"
			}
			ecsRes = appendUnique(ecsRes,
				fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/*", region, acct, cluster),
				fmt.Sprintf("arn:aws:ecs:%s:%s:service-deployment/%s/*", region, acct, cluster))
			if t.RoleARN != "" {
				roles = appendUnique(roles, t.RoleARN)
			}
		}
	}
	if p.SSMImages == nil { // an SSM-era project's deployments touch no ECS service
		doc.Statement = append(doc.Statement,
			Statement{Sid: "RedeployServices", Effect: "Allow", Action: actions("ecs-service"), Resource: ecsRes},
			// These ECS actions take no resource-level permissions.
			Statement{Sid: "ReadTasksAndTaskDefinitions", Effect: "Allow", Action: actions("ecs"), Resource: []string{"*"}},
			// A pinned task definition keeps its task and execution roles,
			// which registering it and running a pre_deploy task pass.
			Statement{Sid: "PassTaskRolesToPinnedTaskDefinitions", Effect: "Allow", Action: []string{"iam:PassRole"},
				Resource: []string{"*"}, Condition: map[string]any{"StringEquals": map[string]string{"iam:PassedToService": "ecs-tasks.amazonaws.com"}}})
	}
	if p.SSMImages == nil {
		doc.Statement = append(doc.Statement, preDeployStatements(p, in, actions)...)
	}
	if search {
		// Targets with no cluster find their services by tags in every
		// cluster; neither action takes resource-level permissions.
		doc.Statement = append(doc.Statement, Statement{Sid: "FindServicesByTagsInEveryCluster", Effect: "Allow",
			Action: actions("cluster-search"), Resource: []string{"*"}})
	}
	if cleanup {
		// keep_revisions deregisters no revision a service of any cluster,
		// a running task or an EventBridge rule uses: it reads them all.
		doc.Statement = append(doc.Statement, Statement{Sid: "FindRevisionsInUseBeforeCleanup", Effect: "Allow",
			Action: actions("revision-cleanup"), Resource: []string{"*"}})
	}

	// The table is where deploy.Open keeps the history: in the caller's account
	// (no role is assumed for it) and the region StoreConfig picks, not
	// in the registry's account.
	tableRegion := deploy.StoreConfig(aws.Config{Region: in.Region}, p).Region
	table := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", or(tableRegion, ""), or(in.AccountID, ""), deploy.TableName(in.Table))
	doc.Statement = append(doc.Statement, Statement{Sid: "KeepHistory", Effect: "Allow", Action: actions("table"),
		Resource: []string{table, table + "/index/*"}})
	if in.Init {
		doc.Statement = append(doc.Statement, Statement{Sid: "CreateHistoryTable", Effect: "Allow",
			Action: actions("table-init"), Resource: []string{table}})
	}
	if in.WecoTable != "" {
		acct := or(awsconfig.AccountOfRole(p.Registry.RoleARN), or(p.Registry.AccountID, in.AccountID))
		weco := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", or(p.Registry.Region, in.Region), acct, in.WecoTable)
		doc.Statement = append(doc.Statement, Statement{Sid: "ReadWecoDeployHistory", Effect: "Allow",
			Action: actions("weco-table"), Resource: []string{weco, weco + "/index/*"}})
	}
	if ssm {
		doc.Statement = append(doc.Statement, Statement{Sid: "PublishImagesToSSM", Effect: "Allow", Action: actions("ssm"),
			Resource: []string{fmt.Sprintf("arn:aws:ssm:*:*:parameter/%s/images/*", p.ID)}})
	}
	if p.Registry.RoleARN != "" {
		roles = appendUnique(roles, p.Registry.RoleARN)
	}
	for _, img := range p.Images {
		if img.Registry.RoleARN != "" {
			roles = appendUnique(roles, img.Registry.RoleARN)
		}
	}
	if len(roles) > 0 {
		slices.Sort(roles)
		doc.Statement = append(doc.Statement, Statement{Sid: "AssumeTargetRoles", Effect: "Allow",
			Action: actions("role"), Resource: roles})
	}
	return doc
}

// appendUnique appends each of vs to s that s does not hold yet.
func appendUnique(s []string, vs ...string) []string {
	for _, v := range vs {
		if !slices.Contains(s, v) {
			s = append(s, v)
		}
	}
	return s
}

// preDeployStatements allow running the environments' pre_deploy tasks:
// RunTask of their task definitions (a family's revisions, or any for a
// task that runs a service's) in the clusters they run in, and reading
// the logs of a failed one. None when no environment has such tasks.
func preDeployStatements(p *manifest.Project, in Input, actions func(string) []string) []Statement {
	or := func(s, def string) string { return cmp.Or(s, def, "*") }
	var tds, clusters, groups []string
	for _, env := range p.Environments {
		for _, task := range env.PreDeploy {
			t := taskTarget(p, env, task)
			region, acct, cluster := or(t.Region, in.Region), or(awsconfig.AccountOfRole(t.RoleARN), in.AccountID), t.Cluster
			if strings.HasPrefix(cluster, "arn:") {
				parts := strings.Split(cluster, ":")
				region, acct, cluster = parts[3], parts[4], strings.TrimPrefix(parts[5], "cluster/")
			}
			family := task.TaskDefinition
			if family == "" {
				family = "*" // the service's family, known only to ECS
			} else {
				family += ":*"
			}
			tds = appendUnique(tds, fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s", region, acct, family))
			clusters = appendUnique(clusters, fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", region, acct, or(cluster, "")))
			groups = appendUnique(groups, fmt.Sprintf("arn:aws:logs:*:%s:log-group:*", acct))
		}
	}
	if len(tds) == 0 {
		return nil
	}
	return []Statement{
		{Sid: "RunPreDeployTasks", Effect: "Allow", Action: actions("pre-deploy"), Resource: tds,
			Condition: map[string]any{"ArnLike": map[string][]string{"ecs:cluster": clusters}}},
		// A task's containers may log to any group, in any Region
		// (awslogs-region), of the task's account.
		{Sid: "ReadFailedPreDeployTaskLogs", Effect: "Allow", Action: actions("pre-deploy-logs"), Resource: groups},
	}
}

// taskTarget returns the target a pre_deploy task runs in: the first of
// env that runs its network service, else env's first.
func taskTarget(p *manifest.Project, env *manifest.Environment, task *manifest.PreDeployTask) manifest.Target {
	if id := task.NetworkService(); id != "" {
		for _, t := range env.Targets {
			for _, svc := range p.ServicesOf(t) {
				if svc.ID == id {
					return t
				}
			}
		}
	}
	if len(env.Targets) > 0 {
		return env.Targets[0]
	}
	return manifest.Target{}
}
