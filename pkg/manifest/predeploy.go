package manifest

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// DefaultPreDeployTimeout is how long a deployment waits for a pre_deploy
// task that gives no timeout of its own.
const DefaultPreDeployTimeout = 15 * time.Minute

// PreDeployTask is a one-off ECS task (a database migration, say) that
// every deployment to an environment runs, from the release's images,
// after it writes its record and before it moves a tag or updates a
// service. A task whose essential container does not exit 0 fails the
// deployment, which then changes nothing. Tasks run one after another,
// in manifest order.
type PreDeployTask struct {
	// ID names the task in events, results and the deployment record.
	ID string
	// TaskDefinition is a task definition family: its latest ACTIVE
	// revision runs, with the containers that run the project's images
	// pinned to the release's digests. Empty when Service is set.
	TaskDefinition string
	// Service is the id of a service of the project whose task definition
	// (the one it runs in the environment) the task runs, pinned the same
	// way. Empty when TaskDefinition is set.
	Service string
	// Container is the container that Command and Environment change.
	Container string
	// Command, when set, replaces the container's command.
	Command []string
	// Environment adds variables to the container (or replaces those of
	// the same name).
	Environment map[string]string
	// NetworkFrom is the id of the service whose network configuration,
	// launch type or capacity provider strategy, and platform version the
	// task takes, in the cluster that service runs in; default Service.
	// The fields below, when set, win over the service's.
	NetworkFrom string
	// Network is the awsvpc network configuration (instead of a
	// service's).
	Network *TaskNetwork
	// LaunchType is EC2, FARGATE or EXTERNAL.
	LaunchType string
	// CapacityProviderStrategy replaces the launch type.
	CapacityProviderStrategy []CapacityProvider
	// PlatformVersion is a Fargate platform version, e.g. 1.4.0 or LATEST.
	PlatformVersion string
	// Timeout bounds the wait for the task; 0 means
	// DefaultPreDeployTimeout.
	Timeout time.Duration
	Pos     Position
}

// TaskNetwork is an awsvpc network configuration: subnets, security
// groups and whether the task gets a public IP address.
type TaskNetwork struct {
	Subnets        []string
	SecurityGroups []string
	// AssignPublicIP is nil when not given (ECS's default, DISABLED).
	AssignPublicIP *bool
}

// CapacityProvider is one item of a capacity provider strategy.
type CapacityProvider struct {
	Name   string
	Weight int
	Base   int
}

// TaskTimeout returns how long to wait for the task.
func (t *PreDeployTask) TaskTimeout() time.Duration {
	if t.Timeout > 0 {
		return t.Timeout
	}
	return DefaultPreDeployTimeout
}

// NetworkService returns the id of the service the task takes its
// network configuration and cluster from: NetworkFrom, else Service;
// "" when it takes them from neither.
func (t *PreDeployTask) NetworkService() string {
	if t.NetworkFrom != "" {
		return t.NetworkFrom
	}
	return t.Service
}

// The keys of a pre_deploy task and its parts (docs/manifest.md).
var (
	v1PreDeploy = []string{"id", "task_definition", "service", "container", "command", "environment",
		"network_from", "network", "launch_type", "capacity_provider_strategy", "platform_version", "timeout"}
	v1TaskNetwork       = []string{"subnets", "security_groups", "assign_public_ip"}
	v1CapacityProvider  = []string{"capacity_provider", "weight", "base"}
	launchTypes         = []string{"EC2", "FARGATE", "EXTERNAL"}
	familyRe            = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	subnetRe            = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	securityGroupRe     = regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`)
	platformVersionRe   = regexp.MustCompile(`^(LATEST|[0-9]+\.[0-9]+\.[0-9]+)$`)
	capacityProviderRe  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	environmentNameRe   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	maxSubnets          = 16
	maxSecurityGroups   = 5
	maxCapacityWeight   = 1000
	maxCapacityBase     = 100000
	maxCapacityProvider = 20
)

// v1PreDeploys reads an environment's pre_deploy list. Each problem is
// reported with the field's path, e.g. environments[prod].pre_deploy[0].command.
func (d *decoder) v1PreDeploys(p *Project, env *Environment, f field) {
	seen := map[string]int{}
	for i, item := range d.list(f) {
		path := fmt.Sprintf("environments[%s].pre_deploy[%d]", env.ID, i)
		t := d.v1PreDeploy(p, env, item, path)
		if t == nil {
			continue
		}
		if t.ID != "" {
			if prev, dup := seen[t.ID]; dup {
				d.errorf(item, "give each pre_deploy task of an environment its own id", "%s: id %q is used by pre_deploy[%d] too", path, t.ID, prev)
			} else {
				seen[t.ID] = i
			}
		}
		env.PreDeploy = append(env.PreDeploy, t)
	}
}

func (d *decoder) v1PreDeploy(p *Project, env *Environment, n *yaml.Node, path string) *PreDeployTask {
	fields, ok := d.mapping(n, schema{what: path, known: v1PreDeploy})
	if !ok {
		return nil
	}
	n = d.resolve(n)
	if n == nil {
		return nil
	}
	t := &PreDeployTask{Pos: d.pos(n)}
	var idf field
	t.ID, idf = d.required(fields, "id", n, path, "<task id, e.g. migrate>")
	d.checkID(idf.val, "pre_deploy task", t.ID)

	tdf, hasTD := fields["task_definition"]
	svcf, hasSvc := fields["service"]
	switch {
	case hasTD && hasSvc:
		d.errorf(svcf.key, "keep one of them", "%s: give task_definition or service, not both", path)
	case !hasTD && !hasSvc:
		d.errorf(n, "add task_definition: <family>, or service: <service id> to run the task definition that service runs",
			"%s: names no task definition", path)
	}
	if hasTD {
		t.TaskDefinition = d.str(tdf)
		d.checkFamily(tdf.val, path, t.TaskDefinition)
	}
	if hasSvc {
		t.Service = d.str(svcf)
		d.checkTaskService(p, svcf.val, path+".service", t.Service)
	}
	if f, ok := fields["network_from"]; ok {
		t.NetworkFrom = d.str(f)
		d.checkTaskService(p, f.val, path+".network_from", t.NetworkFrom)
	}
	d.taskOverrides(fields, n, path, t)
	d.taskLaunch(fields, path, t)
	if f, ok := fields["timeout"]; ok {
		t.Timeout = d.duration(f, path+".timeout")
	}
	if t.NetworkService() == "" && len(env.Targets) > 0 && env.Targets[0].Cluster == "" {
		d.errorf(n, "add network_from: <service id>: the task runs in the cluster that service runs in",
			"%s: buoy cannot tell which cluster to run the task in: the environment's first target names no cluster", path)
	}
	return t
}

// taskOverrides reads the container override: container, command and
// environment.
func (d *decoder) taskOverrides(fields map[string]field, n *yaml.Node, path string, t *PreDeployTask) {
	if f, ok := fields["container"]; ok {
		t.Container = d.str(f)
		if t.Container != "" && !familyRe.MatchString(t.Container) {
			d.errorf(f.val, "a container name is up to 255 letters, digits, '-' or '_'", "%s.container: %q is not a container name", path, t.Container)
		}
	}
	if f, ok := fields["command"]; ok {
		var nodes []*yaml.Node
		t.Command, nodes = d.strings(f)
		if len(t.Command) == 0 {
			d.errorf(f.val, "write the command as a list, e.g. [bin/rails, db:migrate], or remove command", "%s.command is empty", path)
		}
		for i, arg := range t.Command {
			if arg == "" {
				d.errorf(nodes[i], "remove it, or quote the value meant", "%s.command[%d] is empty", path, i)
			}
		}
	}
	if f, ok := fields["environment"]; ok {
		t.Environment = d.taskEnvironment(f, path+".environment")
	}
	if t.Container == "" && (t.Command != nil || t.Environment != nil) {
		d.errorf(n, "add container: <the container's name in the task definition>", "%s: command and environment need the container they change", path)
	}
}

// taskEnvironment reads a mapping of environment variable names to
// values.
func (d *decoder) taskEnvironment(f field, path string) map[string]string {
	n := d.resolve(f.val)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "write environment: {NAME: value}", "%s must be a mapping, not %s", path, kindName(n))
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := d.str(field{key: f.key, val: k})
		if _, dup := out[name]; dup {
			d.errorf(k, "remove one of them", "%s has %q twice", path, name)
			continue
		}
		if !environmentNameRe.MatchString(name) {
			d.errorf(k, "a variable name is letters, digits and '_', not starting with a digit", "%s: %q is not a variable name", path, name)
		}
		out[name] = d.str(field{key: k, val: v})
	}
	return out
}

// taskLaunch reads where and how the task runs: network, launch type or
// capacity provider strategy, platform version.
func (d *decoder) taskLaunch(fields map[string]field, path string, t *PreDeployTask) {
	if f, ok := fields["network"]; ok {
		if t.NetworkFrom != "" {
			d.errorf(f.key, "keep one of them", "%s: give network or network_from, not both", path)
		}
		t.Network = d.taskNetwork(f, path+".network")
	}
	lt, hasLT := fields["launch_type"]
	if hasLT {
		t.LaunchType = d.str(lt)
		if !slices.Contains(launchTypes, t.LaunchType) {
			d.errorf(lt.val, didYouMean(t.LaunchType, launchTypes, "write one of"), "%s.launch_type: %q is not an ECS launch type", path, t.LaunchType)
		}
	}
	if f, ok := fields["capacity_provider_strategy"]; ok {
		if hasLT {
			d.errorf(f.key, "keep one of them: ECS takes a launch type or a capacity provider strategy", "%s: give launch_type or capacity_provider_strategy, not both", path)
		}
		items := d.list(f)
		if len(items) == 0 || len(items) > maxCapacityProvider {
			d.errorf(f.val, fmt.Sprintf("list 1 to %d capacity providers", maxCapacityProvider), "%s.capacity_provider_strategy has %d items", path, len(items))
		}
		for i, item := range items {
			if cp, ok := d.capacityProvider(item, fmt.Sprintf("%s.capacity_provider_strategy[%d]", path, i)); ok {
				t.CapacityProviderStrategy = append(t.CapacityProviderStrategy, cp)
			}
		}
	}
	if f, ok := fields["platform_version"]; ok {
		t.PlatformVersion = d.str(f)
		if !platformVersionRe.MatchString(t.PlatformVersion) {
			d.errorf(f.val, "write LATEST or a version such as 1.4.0 (quote it: \"1.4.0\")", "%s.platform_version: %q is not a Fargate platform version", path, t.PlatformVersion)
		}
	}
}

func (d *decoder) taskNetwork(f field, path string) *TaskNetwork {
	fields, ok := d.mapping(f.val, schema{what: path, known: v1TaskNetwork})
	if !ok {
		return nil
	}
	nw := &TaskNetwork{}
	sf, ok := fields["subnets"]
	if !ok {
		d.errorf(f.val, "add subnets: [subnet-…]", "%s has no subnets", path)
	} else {
		var nodes []*yaml.Node
		nw.Subnets, nodes = d.strings(sf)
		if len(nw.Subnets) == 0 || len(nw.Subnets) > maxSubnets {
			d.errorf(sf.val, fmt.Sprintf("list 1 to %d subnet ids", maxSubnets), "%s.subnets has %d items", path, len(nw.Subnets))
		}
		for i, s := range nw.Subnets {
			if !subnetRe.MatchString(s) {
				d.errorf(nodes[i], "write a subnet id such as subnet-0123456789abcdef0", "%s.subnets[%d]: %q is not a subnet id", path, i, s)
			}
		}
	}
	if gf, ok := fields["security_groups"]; ok {
		var nodes []*yaml.Node
		nw.SecurityGroups, nodes = d.strings(gf)
		if len(nw.SecurityGroups) > maxSecurityGroups {
			d.errorf(gf.val, fmt.Sprintf("list at most %d security group ids", maxSecurityGroups), "%s.security_groups has %d items", path, len(nw.SecurityGroups))
		}
		for i, g := range nw.SecurityGroups {
			if !securityGroupRe.MatchString(g) {
				d.errorf(nodes[i], "write a security group id such as sg-0123456789abcdef0", "%s.security_groups[%d]: %q is not a security group id", path, i, g)
			}
		}
	}
	if pf, ok := fields["assign_public_ip"]; ok {
		v := d.boolean(pf)
		nw.AssignPublicIP = &v
	}
	return nw
}

func (d *decoder) capacityProvider(n *yaml.Node, path string) (CapacityProvider, bool) {
	fields, ok := d.mapping(n, schema{what: path, known: v1CapacityProvider})
	if !ok {
		return CapacityProvider{}, false
	}
	var cp CapacityProvider
	var nf field
	cp.Name, nf = d.required(fields, "capacity_provider", n, path, "<capacity provider, e.g. FARGATE_SPOT>")
	if cp.Name != "" && !capacityProviderRe.MatchString(cp.Name) {
		d.errorf(nf.val, "a capacity provider name is up to 255 letters, digits, '-' or '_'", "%s.capacity_provider: %q is not a capacity provider name", path, cp.Name)
	}
	if f, ok := fields["weight"]; ok {
		cp.Weight = d.integer(f, path+".weight", 0, maxCapacityWeight)
	}
	if f, ok := fields["base"]; ok {
		cp.Base = d.integer(f, path+".base", 0, maxCapacityBase)
	}
	return cp, true
}

// checkFamily reports a task_definition that is not a family name.
func (d *decoder) checkFamily(n *yaml.Node, path, v string) {
	switch {
	case v == "":
		d.errorf(n, "write task_definition: <family>", "%s.task_definition is empty", path)
	case !familyRe.MatchString(v):
		d.errorf(n, "give the family alone (no revision, no ARN): buoy runs its latest ACTIVE revision with the release's images",
			"%s.task_definition: %q is not a task definition family", path, v)
	}
}

// checkTaskService reports a service reference that names no service of
// the project.
func (d *decoder) checkTaskService(p *Project, n *yaml.Node, path, id string) {
	var ids []string
	for _, s := range p.Services {
		if s.ID == id {
			return
		}
		ids = append(ids, s.ID)
	}
	d.errorf(n, unknownHint(id, ids, "name a service declared under services:"), "%s: service %q is not a service of project %q", path, id, p.ID)
}

// duration reads a duration such as 10m or 1h30m; it must be positive.
func (d *decoder) duration(f field, path string) time.Duration {
	n := d.resolve(f.val)
	if n == nil {
		return 0
	}
	v := d.str(f)
	dur, err := time.ParseDuration(v)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" || err != nil || dur <= 0 {
		d.errorf(n, "write a positive duration with its unit, e.g. 10m or 1h30m", "%s: %s is not a duration", path, describe(n))
		return 0
	}
	return dur
}

// integer reads a whole number between lo and hi.
func (d *decoder) integer(f field, path string, lo, hi int) int {
	n := d.resolve(f.val)
	if n == nil {
		return 0
	}
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || err != nil || v < lo || v > hi {
		d.errorf(n, fmt.Sprintf("write a whole number from %d to %d", lo, hi), "%s: %s is not a whole number from %d to %d", path, describe(n), lo, hi)
		return 0
	}
	return v
}
