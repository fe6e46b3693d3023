// Package demo describes the small, realistic AWS world of `make demo`: a
// project with three images, two of which feed one service, ECR
// repositories holding an older build (tagged env.stage and env.prod) and
// a newer one (ref.<sha> and latest), and stage and prod ECS clusters
// whose services run the images through their floating tags. The world is
// built by internal/deployfixture; the CLI's end-to-end tests use it too.
package demo

import "github.com/buoy-deploy/buoy/internal/deployfixture"

// Region is the emulator's region, where the demo world lives.
const Region = "eu-west-1"

const header = `# buoy.yaml of the demo project: three images, two of which (web and
# nginx) feed the web service; stage, and a protected prod that takes
# releases from stage.
`

// ImageIDs returns the image ids, in manifest order.
func ImageIDs() []string { return []string{"web", "nginx", "worker"} }

// World returns the demo's world for prefix ("shop" for the demo): every
// name starts with prefix, so that tests can build several on one
// emulator. Its history table is left to `buoy init`.
func World(prefix string) *deployfixture.World {
	feeds := map[string]string{"web": "web", "nginx": "web", "worker": "worker"}
	w := &deployfixture.World{
		Project:  prefix,
		Header:   header,
		Services: []deployfixture.Service{{ID: "web"}, {ID: "worker"}},
		Environments: []deployfixture.Env{
			{ID: "stage", Clusters: []string{prefix + "-stage"}},
			{ID: "prod", Clusters: []string{prefix + "-prod"}, Protected: true, PromotesFrom: "stage"},
		},
	}
	for _, id := range ImageIDs() {
		w.Images = append(w.Images, deployfixture.Image{ID: id, Repository: prefix + "/" + id, Services: []string{feeds[id]}})
	}
	return w
}
