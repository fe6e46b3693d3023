package manifest

import (
	"fmt"
	"strings"
	"testing"
)

// projectPair is a manifest of projects a and b, each with one image of
// the given repository, registry and environment tag.
func projectPair(repoA, regA, tagA, repoB, regB, tagB string) string {
	project := func(id, repo, region, tag string) string {
		reg := ""
		if region != "" {
			reg = "\n    registry: {region: " + region + "}"
		}
		return fmt.Sprintf(`
  - id: %s%s
    images: [{id: web, repository: %s, services: [web]}]
    services: [{id: web}]
    environments: [{id: stage, tag: %s, targets: [{cluster: c}]}]`, id, reg, repo, tag)
	}
	return "version: 1\nprojects:" + project("a", repoA, regA, tagA) + project("b", repoB, regB, tagB) + "\n"
}

func TestSharedFloatingTags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want string // "" when the manifest is fine
	}{
		{"same repository and tag", projectPair("shop/web", "", "env.stage", "shop/web", "", "env.stage"),
			`m.yaml:8:14: image "web" of project "b" and image "web" of project "a" (line 3) both move the floating tag env.stage of repository shop/web`},
		{"same registry region", projectPair("shop/web", "eu-west-1", "live", "shop/web", "eu-west-1", "live"), "both move the floating tag live"},
		{"other tags", projectPair("shop/web", "", "env.stage", "shop/web", "", "env.stage-b"), ""},
		{"other repositories", projectPair("shop/web", "", "env.stage", "shop/api", "", "env.stage"), ""},
		{"other regions", projectPair("shop/web", "eu-west-1", "env.stage", "shop/web", "us-east-1", "env.stage"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("m.yaml", []byte(tt.src))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Parse: %v, want no error", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Parse: %v, want an error saying %q", err, tt.want)
			}
		})
	}
}
