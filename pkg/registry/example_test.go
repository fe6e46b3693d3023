package registry_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/buoy-deploy/buoy/pkg/registry"
	"github.com/buoy-deploy/buoy/pkg/registry/registrytest"
)

// Resolve what latest is and where env.prod points now, in one call,
// then move env.prod to latest's digest with the manifest just read, and
// leave an audit tag. With AWS, make the Registry with
// registry.NewFromConfig(cfg).
func ExampleRegistry_PointTag() {
	ctx := context.Background()
	const repo = "uk.ac.wellcome/api"
	ecr := registrytest.New() // an in-memory ECR
	ecr.Push(repo, "sha256:"+strings.Repeat("a", 64), "env.prod")
	ecr.Push(repo, "sha256:"+strings.Repeat("b", 64), "latest", "ref.3f2a9c1e")
	reg := registry.New(ecr)

	images, err := reg.Resolve(ctx, []registry.Query{
		{Repository: repo, Tag: "latest"},
		{Repository: repo, Tag: "env.prod"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	latest, prod := images[0], images[1] // nil when missing
	move, err := reg.PointTag(ctx, registry.PointTagInput{Repository: repo, Tag: "env.prod", Digest: latest.Digest,
		FromKnown: true, From: prod.Digest})
	if err != nil {
		fmt.Println(err) // errors.Is(err, registry.ErrImmutableTag): use the task-definition strategy
		return
	}
	fmt.Printf("%s: %.19s… -> %.19s…, moved: %v\n", move.Tag, move.From, move.To, move.Moved)

	audit := registry.AuditTag("env.prod", time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC))
	if _, err := reg.PointTag(ctx, registry.PointTagInput{Repository: repo, Tag: audit, Digest: latest.Digest}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(audit, "->", ecr.Tagged(repo, audit) == latest.Digest)
	fmt.Println("ECR calls:", len(ecr.Gets()), "BatchGetImage,", len(ecr.Puts()), "PutImage")
	// Output:
	// env.prod: sha256:aaaaaaaaaaaa… -> sha256:bbbbbbbbbbbb…, moved: true
	// env.prod.20261122T103000Z -> true
	// ECR calls: 2 BatchGetImage, 2 PutImage
}
