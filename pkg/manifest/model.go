// Package manifest reads buoy's project manifests: the versioned buoy.yaml
// format and, as-is, the legacy .wellcome_project files in every shape they
// had. Both map onto one model of projects, images, services and
// environments. Parsing is strict: every problem is reported with its file,
// line and column and what to write instead.
package manifest

// Position points into a manifest file. Line and Column start at 1; zero
// means unknown.
type Position struct {
	File   string
	Line   int
	Column int
}

// Format says which manifest format a file was written in.
type Format string

// The manifest formats buoy reads.
const (
	FormatV1     Format = "buoy/v1"         // buoy.yaml, version 1
	FormatLegacy Format = "wellcome/legacy" // .wellcome_project, any shape
)

// Strategy says how an environment's services pick up a new release.
type Strategy string

// The redeploy strategies (see docs/manifest.md).
const (
	// StrategyTag moves the floating tag to the release's digest and forces
	// a new deployment of each service. The default.
	StrategyTag Strategy = "tag"
	// StrategyTaskDefinition registers a new task definition revision with
	// the images pinned by digest and updates each service to it.
	StrategyTaskDefinition Strategy = "task-definition"
	// StrategySSM only publishes the image URIs to SSM parameters.
	StrategySSM Strategy = "ssm"
)

// Manifest is one parsed manifest file.
type Manifest struct {
	File     string
	Format   Format
	Projects []*Project
	// Warnings are problems that do not stop a deployment, such as legacy
	// keys that mean nothing any more.
	Warnings []Diagnostic
}

// Project is a set of images and ECS services deployed together.
type Project struct {
	ID       string
	Name     string
	Registry Registry
	// Images are the images a release pins. Empty when SSMImages is set.
	Images   []*Image
	Services []*Service
	// SSMImages, when set, says that the project lists no images: CI
	// writes each image's URI to SSM under a label, and releases are made
	// from there (the legacy projects of 2019, without
	// image_repositories). Such a project has no Images and no Services,
	// and its environments use StrategySSM.
	SSMImages    *SSMImages
	Environments []*Environment
	// Notify are told about the deployments to every environment
	// (buoy.yaml only; legacy manifests have none).
	Notify []NotifyTarget
	Pos    Position
}

// SSMImages is where a project without an image list keeps its images in
// SSM Parameter Store, in the layout of Wellcome Collection's release
// tools of 2019: one String parameter per image (the 2019 tools called it
// a service) under each label and environment,
//
//	{Prefix}/{label}/{image} = image URI
//
// CI writes the label (latest, a URI with a tag); a deployment writes the
// environment's id (the URI pinned by digest) for the Terraform stacks
// that read it.
type SSMImages struct {
	// Prefix is "/{project id}/images".
	Prefix string
}

// Path returns the path under which a label or environment holds its
// images, e.g. /storage/images/latest.
func (s *SSMImages) Path(label string) string { return s.Prefix + "/" + label }

// Name returns the parameter of one image under a label or environment,
// e.g. /storage/images/stage/bag_register.
func (s *SSMImages) Name(label, image string) string { return s.Path(label) + "/" + image }

// Registry says where a project's ECR repositories live. Empty fields mean
// the account and region of the credentials in use.
type Registry struct {
	AccountID string
	Region    string
	RoleARN   string
}

// Image is one container image of a project.
type Image struct {
	ID string
	// Repository is the ECR repository name, e.g. "uk.ac.wellcome/api".
	Repository string
	// Registry overrides the project's registry for this image.
	Registry Registry
	// Services lists the ids of the services this image feeds.
	Services []string
	Pos      Position
}

// Service is one ECS service of a project. A service may be fed by several
// images.
type Service struct {
	ID string
	// Name is the ECS service name; it defaults to ID. An environment may
	// override it (Environment.ServiceNames).
	Name string
	Pos  Position
}

// Environment is where a release runs, such as stage or prod.
type Environment struct {
	ID   string
	Name string
	// Tag is the floating tag moved on every image, e.g. "env.stage";
	// empty for the environments of a project with SSMImages, whose
	// deployments move no tag.
	Tag      string
	Strategy Strategy
	Targets  []Target
	// Protected environments need an explicit confirmation, or a promotion
	// from PromotesFrom.
	Protected    bool
	PromotesFrom string
	// ServiceNames maps a service id to its ECS service name in this
	// environment when it differs from Service.Name.
	ServiceNames map[string]string
	// FindByTags finds services by their ECS tags deployment:service and
	// deployment:env instead of by name (how legacy projects work).
	FindByTags bool
	// PublishSSM also writes /{project}/images/{environment}/{image}.
	PublishSSM bool
	// AuditTag also adds an immutable tag per deployment, e.g.
	// env.prod.20261122T103000Z.
	AuditTag bool
	// KeepRevisions, with StrategyTaskDefinition, is how many of the
	// newest revisions of each task definition family deployed are kept
	// after a successful deployment (older ones no service, task or
	// EventBridge rule uses are deregistered); 0 keeps them all.
	KeepRevisions int
	// Notify are told about this environment's deployments, besides the
	// project's (Project.NotifyTargets).
	Notify []NotifyTarget
	// PreDeploy are the one-off tasks (migrations) every deployment to
	// the environment runs, in order, before it moves a tag or updates a
	// service.
	PreDeploy []*PreDeployTask
	Pos       Position
}

// Target is one ECS cluster an environment deploys to. One environment may
// fan out to several clusters, accounts and regions.
type Target struct {
	// Cluster is the ECS cluster name or ARN. Empty (legacy projects only)
	// means every cluster of the account is searched by tags.
	Cluster string
	// Region is the target's AWS region; empty means the default region.
	Region string
	// RoleARN, when set, is assumed to reach the target.
	RoleARN string
	// Services, when set, limits the target to these service ids. Only
	// legacy manifests set it, for services that had their own role_arn or
	// region_name; empty means every service of the project.
	Services []string
}

// Diagnostic is one problem found in a manifest.
type Diagnostic struct {
	Pos     Position
	Message string // what is wrong
	Hint    string // what to write instead, if known
}

// Error is the error Parse and Load return for an invalid manifest. It
// holds every problem found, not only the first.
type Error struct {
	Diagnostics []Diagnostic
}
