//go:build integration

package e2e_test

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/secretscan"
)

// sideCase is one invocation run through ecs-deploy-py and through buoy
// ecs-deploy, each in a world of its own on moto.
type sideCase struct {
	name string
	// args are the same for both tools, made for each one's world.
	args func(w sideWorld) []string
	env  []string
	// revisions is how many revisions the family has before the run (1
	// by default); serviceIsFamily names the service after the family.
	revisions       int
	serviceIsFamily bool
	// buoy is buoy's exit code; ecs-deploy-py's is always 1 (whyExit).
	buoy int
	// taskDefinition and service are the intended differences, by path
	// (a path ending in "." covers every path under it), each with why;
	// active, when set, says why the ACTIVE revisions differ.
	taskDefinition, service map[string]string
	active                  string
}

func TestECSDeploySideBySide(t *testing.T) {
	t.Parallel()
	py := ecsDeployPy(t)
	bin := buildCLI(t)
	for _, tc := range sideCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			client := ecs.NewFromConfig(awstest.EveryResourceConfig(t))
			states := map[string]sideState{}
			codes := map[string]int{}
			outputs := map[string]string{}
			for tool, cmd := range map[string][]string{"py": {py}, "buoy": {bin, "ecs-deploy"}} {
				revisions := max(tc.revisions, 1)
				w := newSideWorld(ctx, t, client, tool, revisions, tc.serviceIsFamily)
				env := append(cliEnv(t, awstest.Endpoint(t), "ci", "AWS_DEFAULT_REGION="+awstest.Region), tc.env...)
				r := start(t, cmd[0], env, append(cmd[1:], tc.args(w)...)...)
				codes[tool] = r.wait(t)
				outputs[tool] = r.output()
				states[tool] = readSideState(ctx, t, client, w)
			}
			if codes["py"] != 1 || codes["buoy"] != tc.buoy {
				t.Errorf("exit codes: ecs-deploy-py %d, buoy %d; want 1 (%s), %d\necs-deploy-py:\n%s\nbuoy:\n%s",
					codes["py"], codes["buoy"], whyExit, tc.buoy, outputs["py"], outputs["buoy"])
			}
			if found := secretscan.Find(outputs["buoy"], sideSecrets); len(found) > 0 {
				t.Errorf("buoy printed the credentials given as flags:\n%s", outputs["buoy"])
			}
			checkDifferences(t, "task definition", differences(states["py"].taskDefinition, states["buoy"].taskDefinition), tc.taskDefinition)
			checkDifferences(t, "service", differences(states["py"].service, states["buoy"].service), tc.service)
			if same := slices.Equal(states["py"].active, states["buoy"].active); same != (tc.active == "") {
				t.Errorf("ACTIVE revisions: ecs-deploy-py %v, buoy %v; intended difference: %q", states["py"].active, states["buoy"].active, tc.active)
			}
		})
	}
}

// TestECSDeploySideBySideIsDocumented: every intended difference of the
// side-by-side test is listed in docs/cli.md's section on it, by the
// field's name in the AWS API (cpu, containerDefinitions[0].image,
// desiredCount, ...).
func TestECSDeploySideBySideIsDocumented(t *testing.T) {
	t.Parallel()
	_, file, _, _ := runtime.Caller(0)
	doc, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "docs", "cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n#### Side by side with ecs-deploy-py\n")
	if !ok {
		t.Fatal("docs/cli.md has no section #### Side by side with ecs-deploy-py")
	}
	section, _, _ = strings.Cut(section, "\n#")
	for _, tc := range sideCases() {
		for _, paths := range []map[string]string{tc.taskDefinition, tc.service} {
			for p := range paths {
				name := apiName(p)
				if !strings.Contains(section, "`"+name+"`") {
					t.Errorf("case %q: docs/cli.md's side by side does not list `%s`", tc.name, name)
				}
			}
		}
	}
}

// apiName turns a path of the SDK's field names into the API's:
// TaskDefinition.ContainerDefinitions[0].Image is
// containerDefinitions[0].image (the task definition's fields are named
// alone), DesiredCount desiredCount.
func apiName(path string) string {
	parts := strings.Split(strings.TrimPrefix(path, "TaskDefinition."), ".")
	for i, p := range parts {
		parts[i] = strings.ToLower(p[:1]) + p[1:]
	}
	return strings.Join(parts, ".")
}

// checkDifferences fails for every difference that is not intended, and
// for every intended one that did not happen.
func checkDifferences(t *testing.T, what string, got map[string][2]string, intended map[string]string) {
	t.Helper()
	covered := func(path string) (string, bool) {
		for p := range intended {
			if path == p || (strings.HasSuffix(p, ".") && strings.HasPrefix(path, p)) || strings.HasPrefix(path, p+"[") || strings.HasPrefix(path, p+".") {
				return p, true
			}
		}
		return "", false
	}
	seen := map[string]bool{}
	for _, path := range slices.Sorted(maps.Keys(got)) {
		p, ok := covered(path)
		if !ok {
			t.Errorf("%s: %s differs: ecs-deploy-py %s, buoy %s; not an intended difference", what, path, got[path][0], got[path][1])
			continue
		}
		seen[p] = true
	}
	for p, why := range intended {
		if !seen[p] {
			t.Errorf("%s: %s does not differ, yet is listed as an intended difference (%s)", what, p, why)
		}
	}
}

// sideSecrets are the credentials one case passes as flags.
var sideSecrets = map[string]string{"-k": "AKIAFAKESIDEBYSIDE01", "-s": "FAKEsecretSIDEbySIDE0123456789abcdef"}

// Why ecs-deploy-py 0.1.3 and buoy differ, as docs/cli.md says.
const (
	whyCopy = "ecs-deploy-py registers only the family and the container definitions; buoy copies every field of the revision, tags included"
	whyName = "ecs-deploy-py updates the service to the family's name (ECS then runs the family's newest revision; moto keeps the name as given); buoy to the ARN of the revision it registered"
	whyConf = "ecs-deploy-py sends an empty deployment configuration with every update, which moto keeps; buoy sends none without -m or -M"
	whyExit = "ecs-deploy-py exits 1 on every path, SUCCESS included; on moto, which lists no task, at DescribeTasks"
)

// dropped are the fields ecs-deploy-py leaves out of the revision it
// registers, of the worlds' task definition (whyCopy).
var dropped = map[string]string{
	"Tags": whyCopy, "TaskDefinition.Cpu": whyCopy, "TaskDefinition.Memory": whyCopy, "TaskDefinition.ExecutionRoleArn": whyCopy,
	"TaskDefinition.TaskRoleArn": whyCopy, "TaskDefinition.NetworkMode": whyCopy, "TaskDefinition.RequiresCompatibilities": whyCopy,
	"TaskDefinition.Compatibilities":      whyCopy + " (ECS derives compatibilities from requiresCompatibilities)",
	"TaskDefinition.PlacementConstraints": whyCopy, "TaskDefinition.Volumes": whyCopy,
}

// with returns dropped and more.
func with(more map[string]string) map[string]string {
	out := maps.Clone(dropped)
	maps.Copy(out, more)
	return out
}

func sideCases() []sideCase {
	service := func(extra ...string) func(w sideWorld) []string {
		return func(w sideWorld) []string {
			return append([]string{"-c", w.cluster, "-n", w.service}, extra...)
		}
	}
	updated := map[string]string{"TaskDefinition": whyName, "DeploymentConfiguration": whyConf}
	return []sideCase{
		{name: "service and image", args: service("-i", sideRepo+":v2"),
			taskDefinition: dropped, service: updated},
		{name: "desired count, percentages, timeout", args: service("-i", sideRepo+":v2", "-D", "3", "-m", "50", "-M", "150", "-t", "60"),
			taskDefinition: dropped, service: map[string]string{
				"TaskDefinition": "ecs-deploy-py passes -D to UpdateService as desired_count, which boto3 refuses: with -D it never updates the service",
				"DesiredCount":   "as TaskDefinition", "RunningCount": "as TaskDefinition (moto runs the desired count)",
				"DeploymentConfiguration": "as TaskDefinition; buoy sets -m and -M",
			}},
		{name: "credentials and region from flags", args: service("-i", sideRepo+":v2", "-k", sideSecrets["-k"], "-s", sideSecrets["-s"], "-r", awstest.Region),
			taskDefinition: dropped, service: updated},
		{name: "tag from a variable", args: service("-i", sideRepo, "-e", "GIT_TAG"), env: []string{"GIT_TAG=v9"},
			taskDefinition: with(map[string]string{"TaskDefinition.ContainerDefinitions[0].Image": "ecs-deploy-py never reads -e and registers the image as given (here with no tag); buoy takes the tag from the variable"}),
			service:        updated},
		{name: "task definition alone", serviceIsFamily: true,
			args:           func(w sideWorld) []string { return []string{"-c", w.cluster, "-d", w.family, "-i", sideRepo + ":v2"} },
			taskDefinition: dropped}, // ecs-deploy-py's UpdateService names the cluster, from the service ARN, and fails; buoy updates no service with -d alone
		{name: "max definitions, verbose", revisions: 3, args: service("-i", sideRepo+":v2", "--max-definitions", "1", "-v"),
			taskDefinition: dropped, service: updated,
			active: "ecs-deploy-py never reads --max-definitions; buoy deregisters revisions 2 and 3, keeping 4 (deployed) and 1 (what the service ran)"},
		{name: "a profile that does not exist", args: service("-i", sideRepo+":v2", "-p", "nonexistent"), buoy: 2,
			taskDefinition: with(map[string]string{
				"TaskDefinition.ContainerDefinitions[0].Image": "ecs-deploy-py never reads -p and deploys; buoy cannot load the profile and changes nothing",
				"TaskDefinition.Revision":                      "as ContainerDefinitions", "TaskDefinition.TaskDefinitionArn": "as ContainerDefinitions"}),
			service: updated, active: "ecs-deploy-py never reads -p and registers revision 2; buoy changes nothing"},
	}
}
