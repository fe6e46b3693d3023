package deploy

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// plannedTask is a pre_deploy task of the plan: which revision runs
// where and how, and, once the run has started, what became of it.
type plannedTask struct {
	task    *manifest.PreDeployTask
	target  manifest.Target
	cluster string
	region  string
	// source is the task definition as found (the family's latest ACTIVE
	// revision, or the service's); run is the revision to run: source
	// when it pins the release's images already, else the one registered
	// with them pinned ("" until then); pins are the release's images its
	// containers run.
	source, run string
	pins        []history.ImageRef
	launch      TaskLaunch
	// launchFrom is the ECS service the launch was taken from, if any.
	launchFrom string

	// sent: RunTask was asked; until started or refused, whether ECS
	// started the task is unknown.
	sent    bool
	refused bool
	// failure says why the task did not run (its revision could not be
	// registered, or ECS did not start it).
	failure string
	started *StartedTask
	outcome *TaskOutcome
}

// planTasks plans the environment's pre_deploy tasks: the revision each
// runs (pinned to the release's images), where and how. It reads task
// definitions and changes nothing.
func (d *Deployer) planTasks(ctx context.Context, s *session, p *plan) error {
	for _, task := range p.env.PreDeploy {
		pt, err := d.planTask(ctx, s, p, task)
		if err != nil {
			return err
		}
		p.tasks = append(p.tasks, pt)
	}
	return nil
}

func (d *Deployer) planTask(ctx context.Context, s *session, p *plan, task *manifest.PreDeployTask) (*plannedTask, error) {
	pt := &plannedTask{task: task}
	byID := func(id string) (*plannedService, error) {
		for _, ps := range p.services {
			if ps.id == id {
				return ps, nil
			}
		}
		return nil, invalid("pre_deploy task %s: service %s is not deployed to environment %s", task.ID, id, p.env.ID)
	}
	if id := task.NetworkService(); id != "" {
		ps, err := byID(id)
		if err != nil {
			return nil, err
		}
		pt.target, pt.cluster, pt.region, pt.launchFrom = ps.target, ps.ref.Cluster, ps.ref.Region, ps.ref.Name
		if ps.ref.Launch != nil {
			pt.launch = *ps.ref.Launch
		}
	} else {
		if len(p.env.Targets) == 0 || p.env.Targets[0].Cluster == "" {
			return nil, invalid("pre_deploy task %s: environment %s's first target names no cluster to run it in: set network_from to a service", task.ID, p.env.ID)
		}
		pt.target, pt.cluster, pt.region = p.env.Targets[0], p.env.Targets[0].Cluster, p.env.Targets[0].Region
	}
	overrideLaunch(&pt.launch, task)
	runner, err := d.taskRunner(ctx, s, pt)
	if err != nil {
		return nil, err
	}
	ref := task.TaskDefinition
	if task.Service != "" {
		ps, err := byID(task.Service)
		if err != nil {
			return nil, err
		}
		ref = ps.ref.TaskDefinition
	}
	td, err := runner.TaskDefinition(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("pre_deploy task %s: read task definition %s: %w", task.ID, ref, err)
	}
	pt.source = td.ARN
	if err := d.pinTask(p, pt, td); err != nil {
		return nil, err
	}
	if td.NetworkMode == "awsvpc" && len(pt.launch.Subnets) == 0 {
		return nil, invalid("pre_deploy task %s: task definition %s uses the awsvpc network mode, which needs subnets: set network_from to a service with an awsvpc network configuration, or network: {subnets: [...], security_groups: [...]}",
			task.ID, shortTD(td.ARN))
	}
	return pt, nil
}

// overrideLaunch applies what the manifest says of the task's launch
// over what it took from a service.
func overrideLaunch(l *TaskLaunch, task *manifest.PreDeployTask) {
	if n := task.Network; n != nil {
		l.Subnets, l.SecurityGroups, l.AssignPublicIP = n.Subnets, n.SecurityGroups, ""
		if n.AssignPublicIP != nil {
			l.AssignPublicIP = map[bool]string{true: "ENABLED", false: "DISABLED"}[*n.AssignPublicIP]
		}
	}
	// ECS takes a launch type or a capacity provider strategy, not both.
	if task.LaunchType != "" {
		l.LaunchType, l.CapacityProviders = task.LaunchType, nil
	}
	if len(task.CapacityProviderStrategy) > 0 {
		l.LaunchType, l.CapacityProviders = "", task.CapacityProviderStrategy
	}
	if task.PlatformVersion != "" {
		l.PlatformVersion = task.PlatformVersion
	}
}

// pinTask finds the release's images among the containers of td: a task
// must run at least one, and runs td itself only when td pins each to
// the release's digest.
func (d *Deployer) pinTask(p *plan, pt *plannedTask, td TaskDefinition) error {
	task := pt.task
	names := slices.Sorted(maps.Keys(td.Containers))
	var seen []string
	for _, name := range names {
		seen = append(seen, name+"="+td.Containers[name])
	}
	if task.Container != "" && !slices.Contains(names, task.Container) {
		return invalid("pre_deploy task %s: task definition %s has no container %q (its containers: %s): fix container in the manifest",
			task.ID, shortTD(td.ARN), task.Container, strings.Join(names, ", "))
	}
	current := true
	for _, pi := range p.images {
		uses := false
		for _, name := range names {
			ref, ok := ofImage(td.Containers[name], pi.to.Repository, pi.image.Repository)
			if !ok {
				continue
			}
			uses = true
			if ref.Digest() != pi.to.Digest {
				current = false
			}
		}
		if uses {
			pt.pins = append(pt.pins, pi.to)
		}
	}
	if len(pt.pins) == 0 {
		return invalid("pre_deploy task %s: task definition %s runs none of the project's images (its containers: %s), so it would not run the release: point a container at the repository of one of the project's images",
			task.ID, shortTD(td.ARN), strings.Join(seen, ", "))
	}
	if current {
		pt.run, pt.pins = td.ARN, nil
	}
	return nil
}

// taskRunner returns the TaskRunner of the task's target.
func (d *Deployer) taskRunner(ctx context.Context, s *session, pt *plannedTask) (TaskRunner, error) {
	c, err := s.cluster(ctx, pt.target)
	if err != nil {
		return nil, err
	}
	r, ok := c.(TaskRunner)
	if !ok {
		return nil, invalid("pre_deploy task %s: the ECS client of %s cannot run tasks (a Cluster given with WithCluster that is no TaskRunner)", pt.task.ID, where(pt.target))
	}
	return r, nil
}

// describe says what the task runs, where and how, for the plan.
func (pt *plannedTask) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "run %s in cluster %s: ", pt.task.ID, pt.cluster)
	if pt.run != "" && len(pt.pins) == 0 && pt.run == pt.source {
		fmt.Fprintf(&b, "task definition %s, which pins the release's images", shortTD(pt.source))
	} else {
		fmt.Fprintf(&b, "a revision of %s with the release's images pinned", shortTD(pt.source))
	}
	if pt.task.Container != "" && pt.task.Command != nil {
		fmt.Fprintf(&b, ", container %s running %s", pt.task.Container, strings.Join(pt.task.Command, " "))
	}
	switch l := pt.launch; {
	case l.LaunchType != "":
		fmt.Fprintf(&b, ", launch type %s", l.LaunchType)
	case len(l.CapacityProviders) > 0:
		var cps []string
		for _, cp := range l.CapacityProviders {
			cps = append(cps, cp.Name)
		}
		fmt.Fprintf(&b, ", capacity providers %s", strings.Join(cps, ", "))
	}
	if pt.launchFrom != "" {
		fmt.Fprintf(&b, ", network of service %s", pt.launchFrom)
	}
	fmt.Fprintf(&b, "; waits up to %s", pt.task.TaskTimeout())
	return b.String()
}

// emitTaskPlans reports each pre_deploy task the deployment runs first.
func (d *Deployer) emitTaskPlans(p *plan, deploymentID string) {
	for _, pt := range p.tasks {
		d.emit(event.Event{Kind: event.Plan, Environment: p.env.ID, Release: p.release.ID, Deployment: deploymentID,
			Task: pt.task.ID, Cluster: pt.cluster, To: cmp.Or(pt.run, pt.source), Message: pt.describe()})
	}
}

// shortTD shortens a task definition ARN to family:revision.
func shortTD(arn string) string {
	if _, fr, ok := strings.Cut(arn, ":task-definition/"); ok {
		return fr
	}
	return arn
}
