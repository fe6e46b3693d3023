// Package deployfixture builds, on the AWS emulator (moto), the world buoy
// deploys into: ECR repositories holding an old build (under each
// environment's floating tag) and a new one (under "latest"), ECS clusters
// whose services run the images through the floating tags, the history
// table, and the buoy.yaml that describes them. A legacy World
// (LegacyProject) is described by a .wellcome_project instead, with no
// cluster: its services, spread over clusters, are found by their ECS
// tags; a Crowd (NewCrowd) fills the account around it with services a
// search by tags must pass over.
//
// A World is plain data: Build creates it through real AWS clients and
// returns errors, so `make demo` (internal/demo) and the benchmark
// (internal/bench) use it as well as the tests. Tests call New (a default
// project with uniquely named resources) or Start (a World of their own),
// which fail the test on error, write buoy.yaml and return a Fixture with
// readers for what a test checks afterwards (tags, history, ECS).
package deployfixture

import (
	"fmt"
	"slices"
	"strings"

	"github.com/buoy-deploy/buoy/internal/awstest"
)

// The commits of the two builds pushed to every repository: the old one
// is tagged ref.<OldCommit> and each environment's floating tag, the new
// one ref.<NewCommit> and latest.
const (
	OldCommit = "3f2a9c1e5b7d4a6f8e0c2b4d6f8a0c2e4b6d8f0a"
	NewCommit = "9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c"
)

// World describes one project and the AWS resources it deploys to. Build
// creates it and fills each image's Old and New digests.
type World struct {
	// Project is the project id in buoy.yaml.
	Project string
	// Header is written at the top of buoy.yaml (comment lines).
	Header string
	// Table is the DynamoDB history table Build creates; "" creates none
	// (e.g. `buoy init` will).
	Table        string
	Images       []Image
	Services     []Service
	Environments []Env
	// Legacy makes the manifest a .wellcome_project (LegacyYAML): no
	// cluster, services found by their tags in every cluster of the
	// account. Every image's repository is then <namespace>/<image id>.
	Legacy bool
	// SSMImages makes the project one whose images are in SSM (a 2019
	// .wellcome_project without image_repositories): Build writes, per
	// image, /{Project}/images/latest/{image} = its repository URI with the
	// tag ref.<NewCommit> and /{Project}/images/ref.<OldCommit>/{image} =
	// the same with ref.<OldCommit>, as CI did, and tags no build with an
	// environment's floating tag. Its images feed no service.
	SSMImages bool
	// Text, when set, is the manifest as a user wrote it (comments,
	// ignored keys, other projects): YAML returns it instead of writing
	// one. It must describe this World.
	Text string
	// Crowd fills the account with services that are not the project's.
	Crowd Crowd
}

// Image is one image of the project, in its own ECR repository.
type Image struct {
	ID         string   // image id in buoy.yaml
	Repository string   // ECR repository name
	Services   []string // ids of the services it feeds
	// Service is the ECS name of the first service it feeds.
	Service string
	// Old and New are the digests of the old build (under the floating
	// tags) and of the new one (latest); Build fills them.
	Old, New string
}

// Service is one ECS service of the project.
type Service struct {
	ID   string // service id in buoy.yaml
	Name string // its ECS name; "" means ID
	// Region is where it runs (its clusters are made there); "" means
	// awstest.Region. Its images stay in awstest.Region.
	Region string
}

// Env is one environment of the project.
type Env struct {
	ID string
	// Clusters are its targets (all in the emulator's region); each runs
	// every service.
	Clusters     []string
	Protected    bool
	PromotesFrom string
	// YAML lines are added to the environment's entry in buoy.yaml, each
	// written as an environment key, e.g. "redeploy: task-definition".
	YAML []string
	// External: the clusters are played by another server (internal/
	// ecsfake); Build creates nothing in ECS for this environment.
	External bool
	// Spread runs each service in one of Clusters, in turn (ClusterOfService),
	// rather than in every one: a legacy project's services, found by
	// their tags wherever they run.
	Spread bool
}

// FloatingTag returns the environment's floating tag.
func (e Env) FloatingTag() string { return "env." + e.ID }

// ServiceName returns the ECS name of the service with id.
func (w *World) ServiceName(id string) string {
	for _, s := range w.Services {
		if s.ID == id && s.Name != "" {
			return s.Name
		}
	}
	return id
}

// RegionOf returns the region where the service with id runs.
func (w *World) RegionOf(id string) string {
	for _, s := range w.Services {
		if s.ID == id && s.Region != "" {
			return s.Region
		}
	}
	return awstest.Region
}

// Image returns the image with id; the zero Image if there is none.
func (w *World) Image(id string) Image {
	for _, img := range w.Images {
		if img.ID == id {
			return img
		}
	}
	return Image{}
}

// Env returns the environment with id; the zero Env if there is none.
func (w *World) Env(id string) Env {
	for _, e := range w.Environments {
		if e.ID == id {
			return e
		}
	}
	return Env{}
}

// ClustersOf returns the clusters where service id runs in environment
// env: every cluster of env, or with Spread, its one.
func (w *World) ClustersOf(env, id string) []string {
	e := w.Env(env)
	if !e.Spread || len(e.Clusters) == 0 {
		return e.Clusters
	}
	i := slices.IndexFunc(w.Services, func(s Service) bool { return s.ID == id })
	return []string{e.Clusters[max(i, 0)%len(e.Clusters)]}
}

// ClusterOf returns the first cluster of environment env.
func (w *World) ClusterOf(env string) string {
	if cs := w.Env(env).Clusters; len(cs) > 0 {
		return cs[0]
	}
	return ""
}

// URI returns the full URI of an ECR repository in the emulator's account
// and region.
func URI(repository string) string {
	return awstest.AccountID + ".dkr.ecr." + awstest.Region + ".amazonaws.com/" + repository
}

// Family is the task definition family of a service in a cluster:
// unique, since cluster names are.
func Family(cluster, serviceID string) string { return cluster + "-" + serviceID }

// YAML returns the project's manifest: Text when set, else buoy.yaml,
// or with Legacy, the .wellcome_project (LegacyYAML).
func (w *World) YAML() string {
	if w.Text != "" {
		return w.Text
	}
	if w.Legacy {
		return w.LegacyYAML()
	}
	var b strings.Builder
	b.WriteString(w.Header)
	fmt.Fprintf(&b, "version: 1\nprojects:\n  - id: %s\n    registry:\n      account_id: %q\n      region: %s\n    images:\n",
		w.Project, awstest.AccountID, awstest.Region)
	for _, img := range w.Images {
		fmt.Fprintf(&b, "      - id: %s\n        repository: %s\n        services: [%s]\n",
			img.ID, img.Repository, strings.Join(img.Services, ", "))
	}
	b.WriteString("    services:\n")
	for _, s := range w.Services {
		fmt.Fprintf(&b, "      - id: %s\n", s.ID)
		if s.Name != "" && s.Name != s.ID {
			fmt.Fprintf(&b, "        name: %s\n", s.Name)
		}
	}
	b.WriteString("    environments:\n")
	for _, e := range w.Environments {
		fmt.Fprintf(&b, "      - id: %s\n", e.ID)
		if e.Protected {
			b.WriteString("        protected: true\n")
		}
		if e.PromotesFrom != "" {
			fmt.Fprintf(&b, "        promotes_from: %s\n", e.PromotesFrom)
		}
		for _, line := range e.YAML {
			fmt.Fprintf(&b, "        %s\n", line)
		}
		b.WriteString("        targets:\n")
		for _, c := range e.Clusters {
			fmt.Fprintf(&b, "          - cluster: %s\n            region: %s\n", c, awstest.Region)
		}
	}
	return b.String()
}
