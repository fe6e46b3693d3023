package imageref_test

import (
	"fmt"

	"github.com/buoy-deploy/buoy/pkg/imageref"
)

func ExampleParse() {
	r, err := imageref.Parse("mariadb")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r, r.Registry(), r.Repository(), r.Tag())
	// Output: mariadb docker.io library/mariadb latest
}

func ExampleReference_ECR() {
	r := imageref.MustParse("123456789012.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/api:env.prod")
	account, region, ok := r.ECR()
	fmt.Println(account, region, ok)
	// Output: 123456789012 eu-west-1 true
}

func ExampleReference_WithDigest() {
	r := imageref.MustParse(imageref.ECRRepositoryURI("123456789012", "eu-west-1", "uk.ac.wellcome/api") + ":env.prod")
	pinned, err := r.WithDigest("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pinned)
	// Output: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
}
