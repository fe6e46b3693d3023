package deploy

import "errors"

// defaultRegistry builds the ECR client of a registry.
func defaultRegistry(RegistryParams) (Registry, error) {
	return nil, errors.New("no ECR client: pkg/registry is not wired in yet; pass deploy.WithRegistry")
}

// defaultCluster builds the ECS client of a target.
func defaultCluster(ClusterParams) (Cluster, error) {
	return nil, errors.New("no ECS client: pkg/rollout is not wired in yet; pass deploy.WithCluster")
}
