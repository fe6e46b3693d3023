package manifest

import (
	"fmt"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// The keys of buoy.yaml version 1 (docs/manifest.md describes each).
var (
	v1Root        = schema{what: "the manifest", known: []string{"version", "projects"}}
	v1Project     = schema{what: "project", known: []string{"id", "name", "registry", "images", "services", "environments", "notify"}}
	v1Registry    = schema{what: "registry", known: []string{"account_id", "region", "role_arn"}}
	v1Image       = schema{what: "image", known: []string{"id", "repository", "services", "registry"}}
	v1Service     = schema{what: "service", known: []string{"id", "name"}}
	v1Environment = schema{what: "environment", known: []string{"id", "name", "tag", "strategy", "targets", "protected", "promotes_from", "service_names", "find_by_tags", "publish_ssm", "audit_tag", "keep_revisions", "notify", "pre_deploy"}}
	v1Target      = schema{what: "target", known: []string{"cluster", "region", "role_arn"}}
)

// strategies lists the valid strategy values, for hints.
var strategies = []string{string(StrategyTag), string(StrategyTaskDefinition), string(StrategySSM)}

func (d *decoder) v1(root *yaml.Node) []*Project {
	fields, ok := d.mapping(root, v1Root)
	if !ok {
		return nil
	}
	if f, ok := fields["version"]; ok {
		if v := d.str(f); v != "1" {
			d.errorf(f.val, "write version: 1", "version %q is not one this buoy reads", v)
		}
	}
	f, ok := fields["projects"]
	if !ok {
		d.errorf(root, "add projects: with at least one project (see docs/manifest.md)", "the manifest has no projects")
		return nil
	}
	items := d.list(f)
	if len(items) == 0 {
		d.errorf(f.val, "add at least one project: - id: <project id>", "projects is empty")
	}
	var out []*Project
	for _, item := range items {
		if p := d.v1Project(item); p != nil {
			out = append(out, p)
		}
	}
	return out
}

func (d *decoder) v1Registry(f field) Registry {
	fields, ok := d.mapping(f.val, v1Registry)
	if !ok {
		return Registry{}
	}
	var r Registry
	if f, ok := fields["account_id"]; ok {
		r.AccountID = d.str(f)
		d.checkAccount(f.val, r.AccountID)
	}
	if f, ok := fields["region"]; ok {
		r.Region = d.str(f)
		d.checkRegion(f.val, r.Region)
	}
	if f, ok := fields["role_arn"]; ok {
		r.RoleARN = d.str(f)
		d.checkRoleARN(f.val, r.RoleARN)
	}
	return r
}

func (d *decoder) v1Project(n *yaml.Node) *Project {
	fields, ok := d.mapping(n, v1Project)
	if !ok {
		return nil
	}
	n = d.resolve(n)
	if n == nil {
		return nil
	}
	p := &Project{Pos: d.pos(n)}
	var idf field
	p.ID, idf = d.required(fields, "id", n, "project", "<project id>")
	d.checkID(idf.val, "project", p.ID)
	p.Name = p.ID
	if f, ok := fields["name"]; ok {
		if v := d.str(f); v != "" {
			p.Name = v
		}
	}
	if f, ok := fields["registry"]; ok {
		p.Registry = d.v1Registry(f)
	}
	r := refs{}
	if f, ok := fields["images"]; ok {
		for _, item := range d.list(f) {
			d.v1Image(p, &r, item)
		}
	}
	if len(p.Images) == 0 {
		d.errorf(n, "add images: with at least one image", "project %q has no images", p.ID)
	}
	if f, ok := fields["services"]; ok {
		for _, item := range d.list(f) {
			d.v1Service(p, &r, item)
		}
	}
	if f, ok := fields["environments"]; ok {
		for _, item := range d.list(f) {
			d.v1Environment(p, &r, item)
		}
	}
	if len(p.Environments) == 0 {
		d.errorf(n, "add environments: with at least one environment", "project %q has no environments", p.ID)
	}
	if f, ok := fields["notify"]; ok {
		p.Notify = d.notify(f)
	}
	d.crossCheck(p, &r, true)
	return p
}

func (d *decoder) v1Image(p *Project, r *refs, n *yaml.Node) {
	fields, ok := d.mapping(n, v1Image)
	if !ok {
		return
	}
	img := &Image{Pos: d.pos(n)}
	id, idf := d.required(fields, "id", n, "image", "<image id>")
	img.ID = id
	d.checkID(idf.val, "image", id)
	repo, repof := d.required(fields, "repository", n, fmt.Sprintf("image %q", id), "<ECR repository name>")
	img.Repository = repo
	d.checkRepository(repof.val, repo)
	var svcNodes []*yaml.Node
	if f, ok := fields["services"]; ok {
		img.Services, svcNodes = d.strings(f)
	}
	if f, ok := fields["registry"]; ok {
		img.Registry = d.v1Registry(f)
	}
	p.Images = append(p.Images, img)
	r.images = append(r.images, idf.val)
	r.imageServices = append(r.imageServices, svcNodes)
}

func (d *decoder) v1Service(p *Project, r *refs, n *yaml.Node) {
	fields, ok := d.mapping(n, v1Service)
	if !ok {
		return
	}
	svc := &Service{Pos: d.pos(n)}
	var idf field
	svc.ID, idf = d.required(fields, "id", n, "service", "<service id>")
	d.checkID(idf.val, "service", svc.ID)
	svc.Name = svc.ID
	nameNode := idf.val
	if f, ok := fields["name"]; ok {
		if v := d.str(f); v != "" {
			svc.Name, nameNode = v, f.val
		}
	}
	d.checkECSName(nameNode, "service name", svc.Name)
	p.Services = append(p.Services, svc)
	r.services = append(r.services, idf.val)
}

func (d *decoder) v1Environment(p *Project, r *refs, n *yaml.Node) {
	fields, ok := d.mapping(n, v1Environment)
	if !ok {
		return
	}
	env := &Environment{Pos: d.pos(n), Strategy: StrategyTag}
	var idf field
	env.ID, idf = d.required(fields, "id", n, "environment", "<environment id, e.g. stage>")
	env.Name = env.ID
	if f, ok := fields["name"]; ok {
		if v := d.str(f); v != "" {
			env.Name = v
		}
	}
	env.Tag = "env." + env.ID
	tagNode, explicit := idf.val, false
	if f, ok := fields["tag"]; ok {
		if v := d.str(f); v != "" {
			env.Tag, tagNode, explicit = v, f.val, true
		}
	}
	before := len(d.errs)
	d.checkEnvTag(tagNode, env.ID, env.Tag, explicit)
	if len(d.errs) == before {
		d.checkID(idf.val, "environment", env.ID)
	}
	if f, ok := fields["strategy"]; ok {
		v := d.str(f)
		if slices.Contains(strategies, v) {
			env.Strategy = Strategy(v)
		} else {
			d.errorf(f.val, didYouMean(v, strategies, "write one of"), "strategy %q is not known", v)
		}
	}
	for key, dst := range map[string]*bool{"protected": &env.Protected, "find_by_tags": &env.FindByTags, "publish_ssm": &env.PublishSSM, "audit_tag": &env.AuditTag} {
		if f, ok := fields[key]; ok {
			*dst = d.boolean(f)
		}
	}
	if f, ok := fields["keep_revisions"]; ok {
		env.KeepRevisions = d.keepRevisions(f, env.Strategy)
	}
	var promotes *yaml.Node
	if f, ok := fields["promotes_from"]; ok {
		env.PromotesFrom, promotes = d.str(f), f.val
	}
	names := map[string]*yaml.Node{}
	if f, ok := fields["service_names"]; ok {
		env.ServiceNames = d.serviceNames(f, names)
	}
	if f, ok := fields["targets"]; ok {
		for _, item := range d.list(f) {
			if t, ok := d.v1Target(env, item); ok {
				env.Targets = append(env.Targets, t)
			}
		}
	}
	if len(env.Targets) == 0 {
		d.errorf(n, "add targets: - cluster: <ECS cluster>", "environment %q has no targets", env.ID)
	}
	if f, ok := fields["notify"]; ok {
		env.Notify = d.notify(f)
	}
	if f, ok := fields["pre_deploy"]; ok {
		d.v1PreDeploys(p, env, f)
	}
	p.Environments = append(p.Environments, env)
	r.envs = append(r.envs, envRefs{id: idf.val, tag: tagNode, promotes: promotes, names: names})
}

// keepRevisions reads keep_revisions: how many revisions of each task
// definition family the task-definition strategy keeps, at least 1.
func (d *decoder) keepRevisions(f field, strategy Strategy) int {
	n := d.resolve(f.val)
	if n == nil {
		return 0
	}
	v, err := strconv.Atoi(n.Value)
	switch {
	case n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || err != nil:
		d.errorf(n, "write a whole number, e.g. keep_revisions: 10", "keep_revisions must be a whole number, not %s", describe(n))
		return 0
	case v < 1:
		d.errorf(n, "write at least 1 (the revision deployed), e.g. keep_revisions: 10, or leave it out to keep every revision", "keep_revisions must be at least 1, not %d", v)
		return 0
	case strategy != StrategyTaskDefinition:
		d.errorf(f.key, "remove keep_revisions, or set strategy: task-definition", "keep_revisions cleans up the task definition revisions the task-definition strategy registers; strategy %s registers none", strategy)
		return 0
	}
	return v
}

// serviceNames reads the service_names mapping of service id to ECS
// service name, keeping the key nodes for cross-checks.
func (d *decoder) serviceNames(f field, keys map[string]*yaml.Node) map[string]string {
	n := d.resolve(f.val)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "write service_names: {<service id>: <ECS service name>}", "service_names must be a mapping, not %s", kindName(n))
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := d.str(field{key: f.key, val: k})
		if _, dup := out[key]; dup {
			d.errorf(k, "remove one of them", "service_names has %q twice", key)
			continue
		}
		name := d.str(field{key: k, val: v})
		d.checkECSName(v, "service name", name)
		out[key] = name
		keys[key] = k
	}
	return out
}

func (d *decoder) v1Target(env *Environment, n *yaml.Node) (Target, bool) {
	fields, ok := d.mapping(n, v1Target)
	if !ok {
		return Target{}, false
	}
	var t Target
	if f, ok := fields["cluster"]; ok {
		t.Cluster = d.str(f)
		d.checkCluster(f.val, t.Cluster)
	}
	if t.Cluster == "" && !env.FindByTags {
		d.errorf(n, "add cluster: <ECS cluster name>, or set find_by_tags: true to search every cluster", "target of environment %q has no cluster", env.ID)
	}
	if f, ok := fields["region"]; ok {
		t.Region = d.str(f)
		d.checkRegion(f.val, t.Region)
	}
	if f, ok := fields["role_arn"]; ok {
		t.RoleARN = d.str(f)
		d.checkRoleARN(f.val, t.RoleARN)
	}
	return t, true
}
