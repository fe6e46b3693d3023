package manifest_test

import (
	"errors"
	"fmt"

	"github.com/buoy-deploy/buoy/pkg/manifest"
)

func ExampleParse() {
	m, err := manifest.Parse("buoy.yaml", []byte(`
version: 1
projects:
  - id: hello
    images:
      - {id: web, repository: hello/web, services: [web]}
      - {id: proxy, repository: hello/nginx, services: [web]}
    services:
      - id: web
    environments:
      - id: stage
        targets: [{cluster: hello-stage, region: eu-west-1}]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	p, _ := m.Project("")
	env, _ := p.Environment("stage")
	for _, img := range p.ImagesFeeding("web") {
		fmt.Printf("%s:%s\n", img.Repository, env.Tag)
	}
	// Output:
	// hello/web:env.stage
	// hello/nginx:env.stage
}

func ExampleParse_errors() {
	_, err := manifest.Parse("buoy.yaml", []byte(`
version: 1
projects:
  - id: hello
    images: [{id: web, repository: hello/web, services: [wbe]}]
    services: [{id: web}]
    environments: [{id: stage, strategy: rolling, targets: [{cluster: c}]}]
`))
	var merr *manifest.Error
	if errors.As(err, &merr) {
		for _, d := range merr.Diagnostics {
			fmt.Println(d)
		}
	}
	// Output:
	// buoy.yaml:5:58: image "web" feeds service "wbe", which is not declared (did you mean "web"?)
	// buoy.yaml:6:21: service "web" is fed by no image (add web to the services: of the image(s) it runs, or remove it)
	// buoy.yaml:7:42: strategy "rolling" is not known (write one of: tag, task-definition, ssm)
}

func ExampleParse_legacy() {
	m, err := manifest.Parse(".wellcome_project", []byte(`{
  "id": "catalogue_api",
  "role_arn": "arn:aws:iam::756629837203:role/catalogue-ci",
  "aws_region_name": "eu-west-1",
  "github_repository": "wellcomecollection/catalogue-api",
  "environments": [{"id": "stage", "name": "Staging"}, {"id": "latest"}],
  "image_repositories": [{"id": "search", "services": ["search-api"]}]
}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	p := m.Projects[0]
	fmt.Println(m.Format, p.Images[0].Repository, p.Environments[0].Tag, p.Environments[0].FindByTags)
	fmt.Println(len(m.Warnings), "warnings")
	// Output:
	// wellcome/legacy uk.ac.wellcome/search env.stage true
	// 2 warnings
}
