package ssmparam_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/buoy-deploy/buoy/pkg/ssmparam"
)

func ExampleName() {
	fmt.Println(ssmparam.Name("search", "prod", "api"))
	// Output: /search/images/prod/api
}

func ExamplePublish() {
	ctx := context.Background()
	var cfg aws.Config // from config.LoadDefaultConfig(ctx)
	results, err := ssmparam.Publish(ctx, ssm.NewFromConfig(cfg), "search", "prod", map[string]string{
		"api": ssmparam.ImageURI("123456789012.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/api", "sha256:4f1c..."),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range results {
		fmt.Println(r.Name, r.Value, "changed:", r.Changed)
	}
}
