package rollout

import (
	"fmt"
	"slices"
	"strings"
)

// NotFoundError says that services named in the manifest do not exist in
// the cluster (or match no tags there).
type NotFoundError struct {
	Cluster  string
	Services []string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("ECS service %s not found in %s: check the service names in the manifest and the target's cluster, region and account",
		strings.Join(e.Services, ", "), where(e.Cluster))
}

// where names a cluster, or with none, every cluster searched.
func where(cluster string) string {
	if cluster == "" {
		return "any cluster of the account and Region"
	}
	return "cluster " + cluster
}

// AmbiguousError says that a tag search found several services for one
// name.
type AmbiguousError struct {
	// Cluster is the cluster searched; "" when every cluster was.
	Cluster string
	Name    string
	// Matches are the services' names; "cluster/name" when every
	// cluster was searched.
	Matches []string
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("ECS tags match %d services for %q in %s (%s): tag exactly one service with it, or name the service in the manifest",
		len(e.Matches), e.Name, where(e.Cluster), strings.Join(e.Matches, ", "))
}

// ImageMismatchError says that no container of a task definition runs an
// image of the repository RegisterImages was to point at a new image.
type ImageMismatchError struct {
	TaskDefinition string
	// Want is the image the containers of its repository were to run.
	Want string
	// Images maps container name to the image it runs.
	Images map[string]string
}

func (e *ImageMismatchError) Error() string {
	var got []string
	for name, img := range e.Images {
		got = append(got, name+"="+img)
	}
	slices.Sort(got)
	return fmt.Sprintf("no container of task definition %s runs an image of the repository of %s (its containers: %s)",
		e.TaskDefinition, e.Want, strings.Join(got, ", "))
}

// UnknownContainerError says that containers RetagImages was to retag
// are not in the task definition.
type UnknownContainerError struct {
	TaskDefinition string
	// Names are the containers asked for that it does not have.
	Names []string
	// Images maps each container it has to the image it runs.
	Images map[string]string
}

func (e *UnknownContainerError) Error() string {
	have := make([]string, 0, len(e.Images))
	for name := range e.Images {
		have = append(have, name)
	}
	slices.Sort(have)
	return fmt.Sprintf("task definition %s has no container %s: name one of %s",
		shortARN(e.TaskDefinition), strings.Join(e.Names, ", "), strings.Join(have, ", "))
}

// ServiceError says that the rollout of a service did not succeed.
type ServiceError struct {
	Result Result
}

func (e *ServiceError) Error() string {
	return fmt.Sprintf("service %s: %s: %s", e.Result.Handle.Service, e.Result.Outcome, e.Result.Diagnosis)
}
