//go:build integration

package e2e_test

import (
	"strings"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
)

// secondRegion is where a legacy service override puts one service.
const secondRegion = "eu-west-2"

// shape is one shape of .wellcome_project seen in the wild, written as
// its users wrote it (comments, keys buoy ignores), and the World it
// describes: what must exist in AWS for it to deploy, stated apart from
// buoy's parser so that the suite checks the parser too.
type shape struct {
	name string
	// project is the project the entrypoints are asked for (the project
	// option); "" when the file has one project and none is given.
	project string
	// world returns the World of the shape for a cell whose names end in
	// x (unique to the cell: services are found by their tags in the
	// whole account, and repositories are the account's).
	world func(x string) *deployfixture.World
}

// legacyShapes are the shapes the suite deploys, one manifest each.
func legacyShapes() []shape {
	return []shape{
		{name: "yaml-map-of-projects", project: "catalogue_api_{x}", world: mapOfProjects},
		{name: "json-2019", world: json2019},
		{name: "plain-strings", world: plainStrings},
		{name: "objects", world: objects},
		{name: "role-and-region-overrides", world: overrides},
		{name: "image-feeds-three-services", world: imageFeedsThree},
		{name: "service-fed-by-two-images", world: serviceFedByTwo},
		{name: "ssm-era-2019", world: ssmEra},
	}
}

// fill puts the cell's suffix, the emulator's account and regions into a
// manifest template.
func fill(text, x string) string {
	return strings.NewReplacer("{x}", x, "{account}", awstest.AccountID, "{region}", awstest.Region, "{other}", secondRegion).Replace(text)
}

// legacyWorld is a weco-deploy project: stage and prod, each over two
// clusters (each service runs in one, in turn), found by their tags.
func legacyWorld(x, project, text string, images []deployfixture.Image, services ...deployfixture.Service) *deployfixture.World {
	project = fill(project, x)
	for i := range images {
		images[i].Repository = fill(images[i].Repository, x)
		images[i].ID = fill(images[i].ID, x)
		for j := range images[i].Services {
			images[i].Services[j] = fill(images[i].Services[j], x)
		}
	}
	for i := range services {
		services[i].ID = fill(services[i].ID, x)
	}
	return &deployfixture.World{
		Project: project, Table: project + "-history", Legacy: true, Text: fill(text, x),
		Images: images, Services: services,
		Environments: []deployfixture.Env{
			{ID: "stage", Clusters: []string{x + "-stage-a", x + "-stage-b"}, Spread: true},
			{ID: "prod", Clusters: []string{x + "-prod-a", x + "-prod-b"}, Spread: true},
		},
	}
}

func svc(id string) deployfixture.Service { return deployfixture.Service{ID: id} }

func img(id, repository string, services ...string) deployfixture.Image {
	return deployfixture.Image{ID: id, Repository: repository, Services: services}
}

// mapOfProjects: projects keyed by id, several in one file; one is
// deployed, by the project option. The other names images and services
// that do not exist.
func mapOfProjects(x string) *deployfixture.World {
	return legacyWorld(x, "catalogue_api_{x}", `# The projects of the catalogue repository, keyed by id. weco-deploy
# deployed one at a time: weco-deploy --project-id catalogue_api_{x} ...
catalogue_pipeline_{x}:
  name: Catalogue Pipeline
  role_arn: arn:aws:iam::{account}:role/platform-ci
  aws_region_name: {region}
  tf_stack_root: pipeline/terraform
  environments:
    - id: stage
      name: Staging
    - id: prod
      name: Production
  image_repositories:
    - id: transformer_{x}
      services: [transformer-{x}]

catalogue_api_{x}:
  name: Catalogue API
  role_arn: arn:aws:iam::{account}:role/catalogue-ci
  aws_region_name: {region}
  account_id: "{account}"       # where the repositories live
  github_repository: wellcomecollection/catalogue-api
  environments:
    - id: stage
      name: Staging
    - id: prod
      name: Production
  image_repositories:
    - id: search_{x}            # uk.ac.wellcome/search_{x}
      services: [search-api-{x}]
    - id: items
      namespace: weco-{x}       # weco-{x}/items
      services:
        - items-api-{x}
`, []deployfixture.Image{
		img("search_{x}", "uk.ac.wellcome/search_{x}", "search-api-{x}"),
		img("items", "weco-{x}/items", "items-api-{x}"),
	}, svc("search-api-{x}"), svc("items-api-{x}"))
}

// json2019: the 2019 JSON form, one project with a top-level id, the
// label latest listed among the environments, an image that feeds no
// service.
func json2019(x string) *deployfixture.World {
	return legacyWorld(x, "catalogue_{x}", `{
  "id": "catalogue_{x}",
  "name": "Catalogue API",
  "profile": "catalogue-developer",
  "role_arn": "arn:aws:iam::{account}:role/catalogue-ci",
  "aws_region_name": "{region}",
  "github_repository": "wellcomecollection/catalogue-api",
  "environments": [
    {
      "id": "stage",
      "name": "Staging"
    },
    {
      "id": "prod",
      "name": "Production"
    },
    {
      "id": "latest",
      "name": "Latest"
    }
  ],
  "image_repositories": [
    {
      "id": "api_{x}",
      "services": [
        "api-{x}"
      ]
    },
    {
      "id": "snapshot_generator_{x}",
      "services": []
    }
  ]
}
`, []deployfixture.Image{
		img("api_{x}", "uk.ac.wellcome/api_{x}", "api-{x}"),
		img("snapshot_generator_{x}", "uk.ac.wellcome/snapshot_generator_{x}"),
	}, svc("api-{x}"))
}

// plainStrings: services and environments as plain strings, no role and
// no region (the credentials' are used).
func plainStrings(x string) *deployfixture.World {
	return legacyWorld(x, "tools_{x}", `# Services as plain strings, environments as plain ids.
tools_{x}:
  namespace: weco-{x}
  tf_stack_root: terraform
  environments: [stage, prod]
  image_repositories:
    - id: builder
      services: [builder-{x}]
    - id: uploader
      services:
        - uploader-{x}
`, []deployfixture.Image{
		img("builder", "weco-{x}/builder", "builder-{x}"),
		img("uploader", "weco-{x}/uploader", "uploader-{x}"),
	}, svc("builder-{x}"), svc("uploader-{x}"))
}

// objects: services as {id: ...} objects (with keys buoy ignores),
// environments as {id, name} objects.
func objects(x string) *deployfixture.World {
	return legacyWorld(x, "experience_{x}", `# Services as {id: ...} objects, environments as {id, name}.
experience_{x}:
  name: Experience
  role_arn: arn:aws:iam::{account}:role/experience-ci
  region_name: {region}
  namespace: uk.ac.wellcome
  github_repository: wellcomecollection/wellcomecollection.org
  environments:
    - {id: stage, name: Staging}
    - {id: prod, name: Production}
  image_repositories:
    - id: content_{x}
      account_id: "{account}"
      services:
        - id: content-{x}
          account_id: "{account}"
    - id: search_{x}
      services:
        - {id: search-{x}, namespace: weco}
`, []deployfixture.Image{
		img("content_{x}", "uk.ac.wellcome/content_{x}", "content-{x}"),
		img("search_{x}", "uk.ac.wellcome/search_{x}", "search-{x}"),
	}, svc("content-{x}"), svc("search-{x}"))
}

// overrides: services with their own role_arn and region_name, one of
// them in a second region; an image read through a role of its own.
func overrides(x string) *deployfixture.World {
	w := legacyWorld(x, "identity_{x}", `# Some services in another region or reached through another role:
# their role_arn and region_name override the project's.
identity_{x}:
  name: Identity
  role_arn: arn:aws:iam::{account}:role/identity-ci
  aws_region_name: {region}
  namespace: weco-{x}
  environments:
    - id: stage
      name: Staging
    - id: prod
      name: Production
  image_repositories:
    - id: identity_webapp
      role_arn: arn:aws:iam::{account}:role/platform-read_ecr
      services:
        - id: identity-{x}
        - id: identity-dr-{x}
          region_name: {other}
          role_arn: arn:aws:iam::{account}:role/identity-dr-ci
    - id: identity_admin
      services:
        - id: identity-admin-{x}
          role_arn: arn:aws:iam::{account}:role/identity-admin-ci
`, []deployfixture.Image{
		img("identity_webapp", "weco-{x}/identity_webapp", "identity-{x}", "identity-dr-{x}"),
		img("identity_admin", "weco-{x}/identity_admin", "identity-admin-{x}"),
	}, svc("identity-{x}"), svc("identity-dr-{x}"), svc("identity-admin-{x}"))
	w.Services[1].Region = secondRegion
	return w
}

// imageFeedsThree: one image, three services.
func imageFeedsThree(x string) *deployfixture.World {
	return legacyWorld(x, "pipeline_{x}", `# One build, three services: every transformer runs the same image.
pipeline_{x}:
  name: Catalogue Pipeline
  role_arn: arn:aws:iam::{account}:role/platform-ci
  aws_region_name: {region}
  environments:
    - id: stage
      name: Staging
    - id: prod
      name: Production
  image_repositories:
    - id: transformer_{x}
      services:
        - transformer-miro-{x}
        - transformer-sierra-{x}
        - transformer-mets-{x}
`, []deployfixture.Image{
		img("transformer_{x}", "uk.ac.wellcome/transformer_{x}", "transformer-miro-{x}", "transformer-sierra-{x}", "transformer-mets-{x}"),
	}, svc("transformer-miro-{x}"), svc("transformer-sierra-{x}"), svc("transformer-mets-{x}"))
}

// serviceFedByTwo: each API runs its own image and the nginx sidecar.
func serviceFedByTwo(x string) *deployfixture.World {
	return legacyWorld(x, "catalogue_{x}", `# Each API runs its app and the nginx sidecar, which feeds both.
catalogue_{x}:
  name: Catalogue API
  role_arn: arn:aws:iam::{account}:role/catalogue-ci
  aws_region_name: {region}
  environments:
    - {id: stage, name: Staging}
    - {id: prod, name: Production}
    - {id: latest, name: Latest}
  image_repositories:
    - id: search_{x}
      services: [search-api-{x}]
    - id: items_{x}
      services: [items-api-{x}]
    - id: nginx_apigw_{x}
      services: [search-api-{x}, items-api-{x}]
`, []deployfixture.Image{
		img("search_{x}", "uk.ac.wellcome/search_{x}", "search-api-{x}"),
		img("items_{x}", "uk.ac.wellcome/items_{x}", "items-api-{x}"),
		img("nginx_apigw_{x}", "uk.ac.wellcome/nginx_apigw_{x}", "search-api-{x}", "items-api-{x}"),
	}, svc("search-api-{x}"), svc("items-api-{x}"))
}

// ssmEra: a 2019 project with no image_repositories, its images in SSM
// under /{project}/images/{label}/{image}, where CI wrote them.
func ssmEra(x string) *deployfixture.World {
	w := legacyWorld(x, "storage_{x}", `{
  "id": "storage_{x}",
  "name": "Storage service",
  "role_arn": "arn:aws:iam::{account}:role/storage-ci",
  "aws_region_name": "{region}",
  "environments": [
    {
      "id": "stage",
      "name": "Staging"
    },
    {
      "id": "prod",
      "name": "Production"
    }
  ]
}
`, []deployfixture.Image{
		img("bag_register", "storage-{x}/bag_register"),
		img("bag_replicator", "storage-{x}/bag_replicator"),
		img("bag_verifier", "storage-{x}/bag_verifier"),
	})
	w.SSMImages = true
	w.Environments = []deployfixture.Env{{ID: "stage"}, {ID: "prod"}}
	return w
}
