package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// Status reports, per environment, the recorded release, where the
// floating tags point, what the ECS tasks really run, and the drift
// between them in plain words.
func (d *Deployer) Status(ctx context.Context, in StatusInput) (*StatusReport, error) {
	s, ctx := d.newSession(ctx)
	envs := d.project.Environments
	if len(in.Environments) > 0 {
		envs = nil
		for _, id := range in.Environments {
			env, err := d.environment(id)
			if err != nil {
				return nil, err
			}
			envs = append(envs, env)
		}
	}
	rep := &StatusReport{Project: d.project.ID, Environments: []EnvironmentStatus{}}
	for _, env := range envs {
		es, err := d.environmentStatus(ctx, s, env)
		if err != nil {
			return nil, err
		}
		rep.Environments = append(rep.Environments, *es)
	}
	rep.Stats = s.stats()
	return rep, nil
}

func (d *Deployer) environmentStatus(ctx context.Context, s *session, env *manifest.Environment) (*EnvironmentStatus, error) {
	// Empty lists, not nil: the JSON form shows [] rather than null.
	es := &EnvironmentStatus{Environment: env.ID, Images: []ImageStatus{}, Services: []ServiceStatus{}, Drift: []string{}, Unknown: []string{}}
	cur, err := d.store.GetCurrent(ctx, d.project.ID, env.ID)
	switch {
	case errors.Is(err, history.ErrNotFound):
		es.Drift = append(es.Drift, "nothing was ever deployed here by buoy")
	case err != nil:
		return nil, fmt.Errorf("read what %s runs: %w", env.ID, err)
	default:
		es.Current = cur
		if rel, err := d.store.GetRelease(ctx, d.project.ID, cur.ReleaseID); err == nil {
			es.Release = rel
		}
	}
	var latest *history.Deployment
	if deps, err := d.store.ListDeployments(ctx, d.project.ID, env.ID, 1); err == nil && len(deps) > 0 {
		if latest = deps[0]; latest.Status != history.StatusSucceeded {
			es.Drift = append(es.Drift, fmt.Sprintf("the latest deployment %s is %s: %s", latest.ID, latest.Status, latest.Reason))
		}
	}
	if cur == nil {
		es.Imported = d.importedStatus(ctx, env.ID, latest)
	}

	refs, err := s.resolve(ctx, d.imagesAt(env.Tag))
	if err != nil {
		return nil, fmt.Errorf("read the tags of %s: %w", env.ID, err)
	}
	for i, img := range d.project.Images {
		is := ImageStatus{Image: img.ID, Repository: img.Repository, Tag: env.Tag}
		if cur != nil {
			is.Recorded = cur.Images[img.ID].Digest
			if r := cur.Images[img.ID].Repository; r != "" {
				is.Repository = r
			}
		}
		if refs[i] != nil {
			is.Tagged = refs[i].Digest
			is.Repository = refs[i].Repository
		}
		if cur != nil && is.Tagged != is.Recorded {
			es.Drift = append(es.Drift, fmt.Sprintf("%s:%s points at %s, but release %s pins %s",
				img.Repository, env.Tag, shortDigest(is.Tagged), cur.ReleaseID, shortDigest(is.Recorded)))
		}
		es.Images = append(es.Images, is)
	}
	if d.project.SSMImages != nil {
		if err := d.paramStatus(ctx, s, env.ID, cur, es); err != nil {
			return nil, err
		}
	}

	for _, t := range env.Targets {
		if err := d.targetStatus(ctx, s, env, t, es); err != nil {
			return nil, err
		}
	}
	es.State = agreement(es.Drift, es.Unknown)
	return es, nil
}

// agreement is Drifted when anything drifted, else Unknown when anything
// is unknown, else Agrees.
func agreement(drift, unknown []string) Agreement {
	switch {
	case len(drift) > 0:
		return Drifted
	case len(unknown) > 0:
		return Unknown
	}
	return Agrees
}

func (d *Deployer) targetStatus(ctx context.Context, s *session, env *manifest.Environment, t manifest.Target, es *EnvironmentStatus) error {
	svcs := d.project.ServicesOf(t)
	if len(svcs) == 0 {
		return nil // nothing to find (an SSM-era project has no services)
	}
	c, err := s.cluster(ctx, t)
	if err != nil {
		return err
	}
	found, err := c.Find(ctx, findInput(env, svcs))
	var me *MissingError
	if errors.As(err, &me) {
		es.Drift = append(es.Drift, me.Error())
		return nil
	}
	if err != nil {
		return fmt.Errorf("find the services of %s in %s: %w", env.ID, where(t), err)
	}
	for _, ref := range found {
		tasks, err := c.Tasks(ctx, ref)
		if err != nil {
			return fmt.Errorf("read the tasks of %s: %w", ref.Name, err)
		}
		ss, drift, unknown := d.serviceStatus(env, ref, tasks, es)
		es.Drift = append(es.Drift, drift...)
		es.Unknown = append(es.Unknown, unknown...)
		es.Services = append(es.Services, ss)
	}
	return nil
}

// serviceStatus compares the digests a service's running tasks report
// (tasks, by container image; "" for a container that reported none)
// with the digests the environment's record pins, and says what drifted
// and what ECS left unknown.
func (d *Deployer) serviceStatus(env *manifest.Environment, ref ServiceRef, tasks map[string][]string, es *EnvironmentStatus) (ss ServiceStatus, drift, unknown []string) {
	ss = ServiceStatus{Service: ref.Name, Cluster: ref.Cluster, Region: ref.Region,
		TaskDefinition: ref.TaskDefinition, Running: ref.Running, Desired: ref.Desired, Digests: map[string][]string{}}
	var feeding []*manifest.Image
	if svc := d.project.ServiceNamed(env, ref.Key); svc != nil {
		feeding = d.project.ImagesFeeding(svc.ID)
	}
	for _, img := range feeding {
		imgID := img.ID
		unreported := false
		ss.Digests[imgID] = []string{}
		for image, digests := range tasks {
			if _, ok := ofImage(image, es.imageRepository(imgID), img.Repository); !ok {
				continue
			}
			for _, dg := range digests {
				if dg == "" {
					unreported = true
					continue
				}
				ss.Digests[imgID] = appendUnique(ss.Digests[imgID], dg)
			}
		}
		slices.Sort(ss.Digests[imgID])
		recorded := es.recorded(imgID)
		drift = append(drift, taskDrift(ref, imgID, ss.Digests[imgID], recorded)...)
		if unreported || len(ss.Digests[imgID]) == 0 {
			ss.Unreported = append(ss.Unreported, imgID)
		}
		switch {
		case ref.Running == 0:
			// Said once for the service, below.
		case len(ss.Digests[imgID]) == 0:
			unknown = append(unknown, fmt.Sprintf("service %s: none of its %d running tasks reported a digest for %s, so ECS did not say what it runs", ref.Name, ref.Running, imgID))
		case unreported:
			unknown = append(unknown, fmt.Sprintf("service %s: some of its running tasks reported no digest for %s (still starting, or ECS did not say)", ref.Name, imgID))
		case recorded == "":
			unknown = append(unknown, fmt.Sprintf("service %s: no release is recorded for %s to compare what it runs with", ref.Name, imgID))
		}
	}
	if ref.Running != ref.Desired {
		drift = append(drift, fmt.Sprintf("service %s runs %d of %d tasks", ref.Name, ref.Running, ref.Desired))
	}
	if ref.Running == 0 {
		unknown = append(unknown, fmt.Sprintf("service %s runs no task, so ECS cannot say what it runs", ref.Name))
	}
	ss.State = agreement(drift, unknown)
	return ss, drift, unknown
}

func taskDrift(ref ServiceRef, imgID string, digests []string, recorded string) []string {
	if recorded == "" {
		return nil
	}
	var other []string
	for _, dg := range digests {
		if dg != recorded {
			other = append(other, shortDigest(dg))
		}
	}
	if len(other) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("service %s runs %s %s, not the recorded %s",
		ref.Name, imgID, strings.Join(other, ", "), shortDigest(recorded))}
}

func (es *EnvironmentStatus) recorded(imgID string) string {
	for _, is := range es.Images {
		if is.Image == imgID {
			return is.Recorded
		}
	}
	return ""
}

func (es *EnvironmentStatus) imageRepository(imgID string) string {
	for _, is := range es.Images {
		if is.Image == imgID {
			return is.Repository
		}
	}
	return ""
}

func appendUnique(s []string, vs ...string) []string {
	for _, v := range vs {
		if !slices.Contains(s, v) {
			s = append(s, v)
		}
	}
	return s
}

// History lists a project's releases, deployments and the locks freed by
// hand, newest first, with the releases and deployments weco-deploy
// recorded (WithWecoTable) merged in, marked by their Origin.
func (d *Deployer) History(ctx context.Context, in HistoryInput) (*HistoryReport, error) {
	limit := in.Limit
	switch {
	case limit < 0:
		return nil, invalid("history limit %d is negative: give how many releases and deployments to list, or 0 for %d", limit, DefaultHistoryLimit)
	case limit == 0:
		limit = DefaultHistoryLimit
	}
	if in.Environment != "" {
		if _, err := d.environment(in.Environment); err != nil {
			return nil, err
		}
	}
	rels, err := d.store.ListReleases(ctx, d.project.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("list the releases of %s: %w", d.project.ID, err)
	}
	deps, err := d.store.ListDeployments(ctx, d.project.ID, in.Environment, limit)
	if err != nil {
		return nil, fmt.Errorf("list the deployments of %s: %w", d.project.ID, err)
	}
	unlocks, err := d.store.ListUnlocks(ctx, d.project.ID, in.Environment, limit)
	if err != nil {
		return nil, fmt.Errorf("list the locks of %s freed by hand: %w", d.project.ID, err)
	}
	rep := &HistoryReport{Project: d.project.ID, Releases: rels, Deployments: deps, Unlocks: unlocks}
	if rep.Unlocks == nil {
		rep.Unlocks = []*history.Unlock{}
	}
	if rep.Releases == nil {
		rep.Releases = []*history.Release{}
	}
	if rep.Deployments == nil {
		rep.Deployments = []*history.Deployment{}
	}
	if d.weco != nil {
		d.wecoHistory(ctx, rep, in.Environment, limit)
	}
	return rep, nil
}

// ShowRelease returns one release by id or unique id prefix ("" for the
// latest).
func (d *Deployer) ShowRelease(ctx context.Context, id string) (*history.Release, error) {
	return d.release(ctx, id)
}
