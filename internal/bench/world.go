package main

import (
	"fmt"

	"github.com/buoy-deploy/buoy/internal/deployfixture"
)

// newWorld describes one benchmark project on moto: n images, each in its
// own ECR repository and feeding one service, deployed to one environment
// ("stage") whose targets are `targets` clusters. deployfixture builds it.
func newWorld(prefix string, n, targets int) *deployfixture.World {
	stage := deployfixture.Env{ID: "stage"}
	for t := range targets {
		stage.Clusters = append(stage.Clusters, fmt.Sprintf("%s-c%d", prefix, t))
	}
	w := &deployfixture.World{Project: prefix, Environments: []deployfixture.Env{stage}}
	for i := range n {
		image, service := fmt.Sprintf("img%03d", i), fmt.Sprintf("svc%03d", i)
		w.Images = append(w.Images, deployfixture.Image{ID: image, Repository: prefix + "/" + image, Services: []string{service}})
		w.Services = append(w.Services, deployfixture.Service{ID: service})
	}
	return w
}
