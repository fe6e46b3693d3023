package manifest

import (
	"slices"

	"go.yaml.in/yaml/v3"
)

// DefaultLegacyNamespace is the repository prefix of legacy images that
// configure no namespace: image "api" is repository "uk.ac.wellcome/api".
const DefaultLegacyNamespace = "uk.ac.wellcome"

// legacyIgnored are the legacy keys that mean nothing to buoy; they are
// accepted with a warning.
var legacyIgnored = map[string]string{
	"profile":           "buoy takes credentials from the environment, or from --profile",
	"github_repository": "buoy reads the commit and repository from the CI context",
	"tf_stack_root":     "buoy does not run Terraform",
}

// The keys of legacy .wellcome_project files, in all their shapes.
var (
	legacyProject = schema{
		what:    "project",
		known:   []string{"id", "name", "environments", "image_repositories", "role_arn", "aws_region_name", "region_name", "account_id", "namespace"},
		ignored: legacyIgnored,
		refused: map[string]refusal{"notify": {"a .wellcome_project has no notifications",
			"move the project to buoy.yaml, which has notify: (docs/manifest.md, Moving to buoy.yaml)"}},
	}
	legacyEnvironment = schema{what: "environment", known: []string{"id", "name"}}
	legacyImage       = schema{what: "image repository", known: []string{"id", "namespace", "account_id", "region_name", "aws_region_name", "role_arn", "services"}}
	legacyService     = schema{
		what:  "service",
		known: []string{"id", "region_name", "aws_region_name", "role_arn"},
		ignored: map[string]string{
			"account_id": "a service's account is the one its role_arn belongs to",
			"namespace":  "a namespace names image repositories, not services",
		},
	}
)

// legacy reads a .wellcome_project: either one project with a top-level
// "id" (the 2019 JSON form) or a mapping of project id to project.
func (d *decoder) legacy(root *yaml.Node) []*Project {
	root = d.resolve(root)
	if root == nil {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		d.errorf(root, "write version: 1 and projects: (see docs/manifest.md)", "the manifest must be a mapping, not %s", kindName(root))
		return nil
	}
	if hasScalarKey(root, "id") {
		if p := d.legacyProject(root, "", nil); p != nil {
			return []*Project{p}
		}
		return nil
	}
	var out []*Project
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		id := d.str(field{key: k, val: k})
		if p := d.legacyProject(v, id, k); p != nil {
			out = append(out, p)
		}
	}
	if len(root.Content) == 0 {
		d.errorf(root, "write version: 1 and projects: (see docs/manifest.md)", "the manifest has no projects")
	}
	return out
}

func hasScalarKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key && n.Content[i+1].Kind == yaml.ScalarNode {
			return true
		}
	}
	return false
}

// legacyOverride is the role and region a legacy service object may set,
// and where it was written.
type legacyOverride struct {
	region, role string
	node         *yaml.Node // where the override was written
}

func (d *decoder) legacyProject(n *yaml.Node, keyID string, keyNode *yaml.Node) *Project {
	fields, ok := d.mapping(n, legacyProject)
	if !ok {
		return nil
	}
	n = d.resolve(n)
	if n == nil {
		return nil
	}
	p := &Project{ID: keyID, Pos: d.pos(n)}
	idNode := keyNode
	if f, ok := fields["id"]; ok {
		v := d.str(f)
		if keyNode != nil && v != keyID {
			d.errorf(f.val, "remove id: or make it "+keyID, "project id %q differs from its key %q", v, keyID)
		}
		p.ID, idNode = v, f.val
	}
	if p.ID == "" {
		d.errorf(n, "add id: <project id>", "project has no id")
	}
	d.checkID(idNode, "project", p.ID)
	p.Name = p.ID
	if f, ok := fields["name"]; ok {
		if v := d.str(f); v != "" {
			p.Name = v
		}
	}
	p.Registry = d.legacyRegistry(fields)

	namespace, nsField := DefaultLegacyNamespace, fields["namespace"]
	if nsField.val != nil {
		if v := d.str(nsField); v != "" {
			namespace = v
		}
	}
	namespaceUsed := false

	r := refs{}
	services := map[string]*legacyOverride{}
	var imageItems []*yaml.Node
	if f, ok := fields["image_repositories"]; ok {
		imageItems = d.list(f)
		for _, item := range imageItems {
			if d.legacyImage(p, &r, services, namespace, item) {
				namespaceUsed = true
			}
		}
	}
	// Without image_repositories (or with an empty list), weco-deploy
	// read the images from SSM, where CI wrote them: an SSM-era project.
	if len(imageItems) == 0 {
		p.SSMImages = &SSMImages{Prefix: "/" + p.ID + "/images"}
	}
	switch {
	case nsField.val == nil || namespaceUsed:
	case p.SSMImages != nil:
		d.warnf(nsField.key, "remove it", "project key \"namespace\" is ignored: the project has no image repositories (its images come from SSM)")
	default:
		d.warnf(nsField.key, "remove it", "project key \"namespace\" is ignored: every image repository sets its own")
	}
	if f, ok := fields["environments"]; ok {
		for _, item := range d.list(f) {
			d.legacyEnvironment(p, &r, services, item)
		}
	}
	if len(p.Environments) == 0 {
		d.errorf(n, "add environments: [{id: stage, name: Staging}]", "project %q has no environments", p.ID)
	}
	if p.SSMImages != nil {
		ssmEnvironments(p)
	}
	d.crossCheck(p, &r, false)
	return p
}

// ssmEnvironments makes the environments of an SSM-era project deploy as
// weco-deploy did for it: write /{project}/images/{environment}/{image}
// and nothing else, no tag moved and no ECS service touched (its
// Terraform stacks apply the parameters).
func ssmEnvironments(p *Project) {
	for _, env := range p.Environments {
		env.Strategy, env.Tag, env.FindByTags, env.PublishSSM = StrategySSM, "", false, false
	}
}

// legacyRegistry reads account_id, role_arn and aws_region_name or
// region_name from a legacy project or image repository.
func (d *decoder) legacyRegistry(fields map[string]field) Registry {
	var r Registry
	if f, ok := fields["account_id"]; ok {
		r.AccountID = d.str(f)
		d.checkAccount(f.val, r.AccountID)
	}
	if f, ok := fields["role_arn"]; ok {
		r.RoleARN = d.str(f)
		d.checkRoleARN(f.val, r.RoleARN)
	}
	r.Region = d.legacyRegion(fields)
	return r
}

// legacyRegion reads aws_region_name or region_name, the two spellings the
// legacy files used; when both are present they must agree.
func (d *decoder) legacyRegion(fields map[string]field) string {
	var region string
	var first field
	for _, key := range []string{"aws_region_name", "region_name"} {
		f, ok := fields[key]
		if !ok {
			continue
		}
		v := d.str(f)
		d.checkRegion(f.val, v)
		if first.key != nil && v != region {
			d.errorf(f.val, "keep only aws_region_name", "region_name %q disagrees with aws_region_name %q (line %d)", v, region, first.val.Line)
			continue
		}
		region, first = v, f
	}
	return region
}

// legacyImage reads one image repository; it returns whether it used the
// project's namespace.
func (d *decoder) legacyImage(p *Project, r *refs, services map[string]*legacyOverride, namespace string, n *yaml.Node) bool {
	fields, ok := d.mapping(n, legacyImage)
	if !ok {
		return false
	}
	img := &Image{Pos: d.pos(n)}
	id, idf := d.required(fields, "id", n, "image repository", "<image id>")
	img.ID = id
	d.checkID(idf.val, "image", id)
	usedProjectNamespace := true
	if f, ok := fields["namespace"]; ok {
		if v := d.str(f); v != "" {
			namespace, usedProjectNamespace = v, false
		}
	}
	img.Repository = namespace + "/" + id
	if id != "" {
		d.checkRepository(idf.val, img.Repository)
	}
	img.Registry = d.legacyRegistry(fields)
	var svcNodes []*yaml.Node
	if f, ok := fields["services"]; ok {
		for _, item := range d.list(f) {
			sid, node, override := d.legacyServiceRef(item)
			if sid == "" {
				continue
			}
			img.Services = append(img.Services, sid)
			svcNodes = append(svcNodes, node)
			d.addLegacyService(p, r, services, sid, node, override)
		}
	}
	p.Images = append(p.Images, img)
	r.images = append(r.images, idf.val)
	r.imageServices = append(r.imageServices, svcNodes)
	return usedProjectNamespace
}

// legacyServiceRef reads a service written as a plain string or as an
// {id: ...} object with an optional role and region.
func (d *decoder) legacyServiceRef(item *yaml.Node) (string, *yaml.Node, *legacyOverride) {
	n := d.resolve(item)
	if n == nil {
		return "", nil, nil
	}
	if n.Kind == yaml.ScalarNode {
		id := d.str(field{key: n, val: n})
		if id == "" {
			d.errorf(n, "write the service id, e.g. - search-api", "empty service")
		}
		d.checkID(n, "service", id)
		return id, n, nil
	}
	fields, ok := d.mapping(n, legacyService)
	if !ok {
		return "", nil, nil
	}
	id, idf := d.required(fields, "id", n, "service", "<service id>")
	d.checkID(idf.val, "service", id)
	var o *legacyOverride
	role := ""
	if f, ok := fields["role_arn"]; ok {
		role = d.str(f)
		d.checkRoleARN(f.val, role)
	}
	if region := d.legacyRegion(fields); region != "" || role != "" {
		o = &legacyOverride{region: region, role: role, node: n}
	}
	return id, idf.val, o
}

// addLegacyService declares a service the first time an image names it
// and keeps its role and region override; two different overrides for one
// service are an error.
func (d *decoder) addLegacyService(p *Project, r *refs, services map[string]*legacyOverride, id string, node *yaml.Node, o *legacyOverride) {
	prev, seen := services[id]
	if !seen {
		p.Services = append(p.Services, &Service{ID: id, Name: id, Pos: d.pos(node)})
		r.services = append(r.services, node)
		services[id] = o
		return
	}
	switch {
	case o == nil:
	case prev == nil:
		services[id] = o
	case prev.role != o.role || prev.region != o.region:
		d.errorf(o.node, "give the service the same role_arn and region_name everywhere",
			"service %q has role_arn %q and region %q here but %q and %q at line %d", id, o.role, o.region, prev.role, prev.region, prev.node.Line)
	}
}

func (d *decoder) legacyEnvironment(p *Project, r *refs, services map[string]*legacyOverride, item *yaml.Node) {
	n := d.resolve(item)
	if n == nil {
		return
	}
	// PublishSSM: weco-deploy wrote /{project}/images/{environment}/{image}
	// on every deployment of every project, and Terraform stacks read it.
	env := &Environment{Pos: d.pos(n), Strategy: StrategyTag, FindByTags: true, PublishSSM: true}
	idNode := n
	if n.Kind == yaml.ScalarNode {
		env.ID = d.str(field{key: n, val: n})
	} else {
		fields, ok := d.mapping(n, legacyEnvironment)
		if !ok {
			return
		}
		var idf field
		env.ID, idf = d.required(fields, "id", n, "environment", "<environment id, e.g. stage>")
		idNode = idf.val
		if f, ok := fields["name"]; ok {
			env.Name = d.str(f)
		}
	}
	if env.ID == "latest" {
		d.warnf(idNode, "remove it; release-deploy takes the label latest by default: --from-label in the CLI, from-label in the Action and the plugin",
			"environment \"latest\" is ignored: latest is the label CI pushes, not an environment to deploy to")
		return
	}
	if env.Name == "" {
		env.Name = env.ID
	}
	env.Tag = "env." + env.ID
	before := len(d.errs)
	if p.SSMImages == nil { // an SSM-era environment moves no tag
		d.checkEnvTag(idNode, env.ID, env.Tag, false)
	}
	if len(d.errs) == before {
		d.checkID(idNode, "environment", env.ID)
	}
	env.Targets = legacyTargets(p, services)
	p.Environments = append(p.Environments, env)
	r.envs = append(r.envs, envRefs{id: idNode, tag: idNode})
}

// legacyTargets returns the project's target (its role and region,
// clusters searched by tags) and one more per distinct role and region
// that services override, each limited to its services.
func legacyTargets(p *Project, services map[string]*legacyOverride) []Target {
	base := Target{Region: p.Registry.Region, RoleARN: p.Registry.RoleARN}
	var out []Target
	var baseServices []string
	overridden := false
	type place struct{ region, role string }
	index := map[place]int{}
	for _, s := range p.Services {
		o := services[s.ID]
		if o == nil {
			baseServices = append(baseServices, s.ID)
			continue
		}
		overridden = true
		t := Target{Region: o.region, RoleARN: o.role}
		if t.Region == "" {
			t.Region = base.Region
		}
		if t.RoleARN == "" {
			t.RoleARN = base.RoleARN
		}
		key := place{t.Region, t.RoleARN}
		if i, ok := index[key]; ok {
			out[i].Services = append(out[i].Services, s.ID)
			continue
		}
		t.Services = []string{s.ID}
		index[key] = len(out)
		out = append(out, t)
	}
	if !overridden {
		return []Target{base}
	}
	if len(baseServices) > 0 {
		base.Services = baseServices
		out = slices.Insert(out, 0, base)
	}
	return out
}
