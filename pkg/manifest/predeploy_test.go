package manifest

import (
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// preDeployManifest is a project of two services in stage (cluster
// shop-stage) whose environment entry ends with preDeploy, written as
// the value of pre_deploy: (indented under it).
func preDeployManifest(preDeploy string, targets string) string {
	if targets == "" {
		targets = "[{cluster: shop-stage}]"
	}
	return `version: 1
projects:
  - id: shop
    images:
      - {id: web, repository: shop/web, services: [web, worker]}
    services:
      - id: web
      - id: worker
    environments:
      - id: stage
        find_by_tags: true
        targets: ` + targets + `
        pre_deploy:
` + preDeploy
}

func TestPreDeployParses(t *testing.T) {
	t.Parallel()
	yes := true
	tests := []struct {
		name, src string
		want      []*PreDeployTask
	}{
		{
			name: "a family, its container's command and environment, a service's network",
			src: `          - id: migrate
            task_definition: shop-migrate
            container: app
            command: [bin/rails, "db:migrate"]
            environment: {RAILS_ENV: production, VERBOSE: "1"}
            network_from: web
            timeout: 20m
`,
			want: []*PreDeployTask{{ID: "migrate", TaskDefinition: "shop-migrate", Container: "app",
				Command: []string{"bin/rails", "db:migrate"}, Environment: map[string]string{"RAILS_ENV": "production", "VERBOSE": "1"},
				NetworkFrom: "web", Timeout: 20 * time.Minute}},
		},
		{
			name: "a service's task definition, a network of its own, a capacity provider strategy, two tasks in order",
			src: `          - id: migrate
            service: web
            network:
              subnets: [subnet-0123456789abcdef0, subnet-89abcdef]
              security_groups: [sg-0123456789abcdef0]
              assign_public_ip: true
            capacity_provider_strategy:
              - {capacity_provider: FARGATE_SPOT, weight: 3}
              - {capacity_provider: FARGATE, weight: 1, base: 1}
            platform_version: "1.4.0"
          - id: seed
            service: worker
            launch_type: FARGATE
`,
			want: []*PreDeployTask{
				{ID: "migrate", Service: "web", Network: &TaskNetwork{Subnets: []string{"subnet-0123456789abcdef0", "subnet-89abcdef"},
					SecurityGroups: []string{"sg-0123456789abcdef0"}, AssignPublicIP: &yes},
					CapacityProviderStrategy: []CapacityProvider{{Name: "FARGATE_SPOT", Weight: 3}, {Name: "FARGATE", Weight: 1, Base: 1}},
					PlatformVersion:          "1.4.0"},
				{ID: "seed", Service: "worker", LaunchType: "FARGATE"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := Parse("buoy.yaml", []byte(preDeployManifest(tt.src, "")))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got := m.Projects[0].Environments[0].PreDeploy
			for _, task := range got {
				task.Pos = Position{}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("pre_deploy:\n got %s\nwant %s", dump(got), dump(tt.want))
			}
		})
	}
}

func dump(ts []*PreDeployTask) string {
	var out []string
	for _, t := range ts {
		out = append(out, formatTask(t))
	}
	return strings.Join(out, "; ")
}

func formatTask(t *PreDeployTask) string {
	nw := "<nil>"
	if t.Network != nil {
		pub := "<nil>"
		if t.Network.AssignPublicIP != nil {
			pub = strconv.FormatBool(*t.Network.AssignPublicIP)
		}
		nw = "{" + strings.Join(t.Network.Subnets, ",") + " " + strings.Join(t.Network.SecurityGroups, ",") + " " + pub + "}"
	}
	return strings.Join([]string{t.ID, t.TaskDefinition, t.Service, t.Container, strings.Join(t.Command, ","),
		mapString(t.Environment), t.NetworkFrom, nw, t.LaunchType, capString(t.CapacityProviderStrategy), t.PlatformVersion, t.Timeout.String()}, "|")
}

func mapString(m map[string]string) string {
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		kv = append(kv, k+"="+m[k])
	}
	return strings.Join(kv, ",")
}

func capString(cps []CapacityProvider) string {
	var out []string
	for _, cp := range cps {
		out = append(out, cp.Name+":"+strconv.Itoa(cp.Weight)+"/"+strconv.Itoa(cp.Base))
	}
	return strings.Join(out, ",")
}

// TestPreDeployRejects: every problem of a pre_deploy task is reported
// at its line with the field's path and what to write instead.
func TestPreDeployRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, targets string
		line               int
		want               string
	}{
		{"no id", "          - {task_definition: m}\n", "", 14, `environments[stage].pre_deploy[0] has no "id"`},
		{"unknown key", "          - {id: m, task_definition: m, comand: [x]}\n", "", 14, `unknown key "comand" in environments[stage].pre_deploy[0] (did you mean "command"?)`},
		{"neither family nor service", "          - {id: m}\n", "", 14, "environments[stage].pre_deploy[0]: names no task definition (add task_definition: <family>"},
		{"both family and service", "          - {id: m, task_definition: m, service: web}\n", "", 14, "give task_definition or service, not both"},
		{"a revision", "          - {id: m, task_definition: \"m:3\"}\n", "", 14, `environments[stage].pre_deploy[0].task_definition: "m:3" is not a task definition family (give the family alone`},
		{"unknown service", "          - {id: m, service: wbe}\n", "", 14, `environments[stage].pre_deploy[0].service: service "wbe" is not a service of project "shop" (did you mean "web"?)`},
		{"unknown network_from", "          - {id: m, task_definition: m, network_from: api}\n", "", 14, `environments[stage].pre_deploy[0].network_from: service "api" is not a service of project "shop"`},
		{"duplicate id", "          - {id: m, service: web}\n          - {id: m, service: worker}\n", "", 15, `environments[stage].pre_deploy[1]: id "m" is used by pre_deploy[0] too`},
		{"command without container", "          - {id: m, service: web, command: [migrate]}\n", "", 14, "command and environment need the container they change (add container:"},
		{"empty command", "          - {id: m, service: web, container: app, command: []}\n", "", 14, "environments[stage].pre_deploy[0].command is empty"},
		{"command is a string", "          - {id: m, service: web, container: app, command: bin/migrate}\n", "", 14, `"command" must be a list`},
		{"bad variable", "          - {id: m, service: web, container: app, environment: {1X: a}}\n", "", 14, `environments[stage].pre_deploy[0].environment: "1X" is not a variable name`},
		{"network and network_from", "          - {id: m, task_definition: m, network_from: web, network: {subnets: [subnet-01234567]}}\n", "", 14, "give network or network_from, not both"},
		{"no subnets", "          - {id: m, task_definition: m, network: {security_groups: [sg-01234567]}}\n", "", 14, "environments[stage].pre_deploy[0].network has no subnets"},
		{"bad subnet", "          - {id: m, task_definition: m, network: {subnets: [subnet-XYZ]}}\n", "", 14, `environments[stage].pre_deploy[0].network.subnets[0]: "subnet-XYZ" is not a subnet id`},
		{"bad security group", "          - {id: m, task_definition: m, network: {subnets: [subnet-01234567], security_groups: [default]}}\n", "", 14, `network.security_groups[0]: "default" is not a security group id`},
		{"assign_public_ip not a boolean", "          - {id: m, task_definition: m, network: {subnets: [subnet-01234567], assign_public_ip: ENABLED}}\n", "", 14, `"assign_public_ip" must be true or false`},
		{"unknown launch type", "          - {id: m, service: web, launch_type: FARGTE}\n", "", 14, `environments[stage].pre_deploy[0].launch_type: "FARGTE" is not an ECS launch type (did you mean "FARGATE"?)`},
		{"launch type and capacity providers", "          - {id: m, service: web, launch_type: FARGATE, capacity_provider_strategy: [{capacity_provider: FARGATE}]}\n", "", 14, "give launch_type or capacity_provider_strategy, not both"},
		{"capacity provider without a name", "          - {id: m, service: web, capacity_provider_strategy: [{weight: 1}]}\n", "", 14, `environments[stage].pre_deploy[0].capacity_provider_strategy[0] has no "capacity_provider"`},
		{"weight out of range", "          - {id: m, service: web, capacity_provider_strategy: [{capacity_provider: FARGATE, weight: 5000}]}\n", "", 14, "capacity_provider_strategy[0].weight: \"5000\" is not a whole number from 0 to 1000"},
		{"bad platform version", "          - {id: m, service: web, platform_version: v1}\n", "", 14, `environments[stage].pre_deploy[0].platform_version: "v1" is not a Fargate platform version`},
		{"timeout without a unit", "          - {id: m, service: web, timeout: 600}\n", "", 14, `environments[stage].pre_deploy[0].timeout: "600" is not a duration (write a positive duration with its unit, e.g. 10m or 1h30m)`},
		{"negative timeout", "          - {id: m, service: web, timeout: -5m}\n", "", 14, `timeout: "-5m" is not a duration`},
		{"no cluster to run in", "          - {id: m, task_definition: m}\n", "[{region: eu-west-1}]", 14, "buoy cannot tell which cluster to run the task in"},
		{"not a list", "          {id: m}\n", "", 14, `"pre_deploy" must be a list`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			diags := parseErr(t, preDeployManifest(tt.src, tt.targets))
			var all []string
			found := false
			for _, d := range diags {
				all = append(all, d.String())
				if strings.Contains(d.String(), tt.want) && d.Pos.Line == tt.line {
					found = true
				}
			}
			if !found {
				t.Errorf("diagnostics:\n%s\nwant one at line %d mentioning %q", strings.Join(all, "\n"), tt.line, tt.want)
			}
		})
	}
}
