package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/buoy-deploy/buoy/pkg/iampolicy"
)

// crossAccountManifest is a project whose images live in another account
// and region than the credentials buoy runs with.
const crossAccountManifest = `version: 1
projects:
  - id: shop
    registry:
      account_id: "111111111111"
      region: us-east-1
      role_arn: arn:aws:iam::111111111111:role/ecr-push
    images:
      - id: web
        repository: shop/web
        services: [web]
    services:
      - id: web
    environments:
      - id: stage
        targets:
          - cluster: shop-stage
`

// TestIAMPolicyNamesTheTableInTheCallersAccountAndRegion: iam-policy
// allows the history table in the account given by --account-id (the
// caller's, * when not given) and in the region buoy runs in: --region,
// else the SDK's (AWS_REGION, the shared config), as Open uses it; not in
// the registry's account and region.
func TestIAMPolicyNamesTheTableInTheCallersAccountAndRegion(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "buoy.yaml")
	if err := os.WriteFile(path, []byte(crossAccountManifest), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"region from the SDK, account given", []string{"--account-id", "222222222222"}, "arn:aws:dynamodb:eu-west-2:222222222222:table/buoy-history"},
		{"region flag, account unknown", []string{"--region", "eu-central-1"}, "arn:aws:dynamodb:eu-central-1:*:table/buoy-history"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" },
				awsConfig: func(_ context.Context, region, _ string) (aws.Config, error) {
					if region == "" {
						region = "eu-west-2" // as AWS_REGION would say
					}
					return aws.Config{Region: region}, nil
				}}
			if code := a.main(context.Background(), append([]string{"iam-policy", "--manifest", path}, tc.args...)); code != 0 {
				t.Fatalf("iam-policy: exit %d: %s", code, errb.String())
			}
			var doc iampolicy.Document
			if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			for _, st := range doc.Statement {
				if st.Sid == "KeepHistory" {
					if !slices.Contains(st.Resource, tc.want) {
						t.Errorf("KeepHistory resources: got %v, want %s", st.Resource, tc.want)
					}
					return
				}
			}
			t.Errorf("no KeepHistory statement in %s", out.String())
		})
	}
}
