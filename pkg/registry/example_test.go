package registry_test

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/buoy-deploy/buoy/pkg/registry"
)

// Resolve what `latest` is for every image and where env.prod points now,
// then move env.prod and leave an audit tag.
func ExampleRegistry_PointTag() {
	ctx := context.Background()
	var cfg aws.Config // from config.LoadDefaultConfig(ctx)
	reg := registry.New(ecr.NewFromConfig(cfg))

	resolved, err := reg.Resolve(ctx, []registry.Lookup{
		{Repository: "uk.ac.wellcome/api", Tag: "latest", FloatingTag: "env.prod"},
		{Repository: "uk.ac.wellcome/web", Tag: "latest", FloatingTag: "env.prod"},
	})
	if err != nil {
		fmt.Println(err) // a *registry.MissingError lists every missing image
		return
	}
	for _, r := range resolved {
		in := registry.PointTagInput{
			Repository: r.Image.Repository, Tag: "env.prod",
			Digest: r.Image.Digest, MediaType: r.Image.MediaType, Manifest: r.Image.Manifest,
		}
		move, err := reg.PointTag(ctx, in)
		if err != nil {
			fmt.Println(err) // errors.Is(err, registry.ErrImmutableTag): use the task-definition strategy
			return
		}
		fmt.Println(move.Tag, move.From, "->", move.To, "moved:", move.Moved)
		in.Tag = registry.AuditTag("env.prod", time.Now())
		if _, err := reg.PointTag(ctx, in); err != nil {
			fmt.Println(err)
		}
	}
}
