package deploy

import (
	"slices"
	"testing"

	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// TestIAMPolicyAllowsTheClusterSearchOnlyWhereATargetNeedsIt: a target
// with no cluster (find_by_tags) needs tag:GetResources and
// ecs:ListClusters, which take no resource-level permissions; a project
// whose targets all name their cluster gets neither.
func TestIAMPolicyAllowsTheClusterSearchOnlyWhereATargetNeedsIt(t *testing.T) {
	t.Parallel()
	project := func(cluster string) *manifest.Project {
		return &manifest.Project{ID: "p", Images: []*manifest.Image{{ID: "api", Repository: "p/api"}},
			Environments: []*manifest.Environment{{ID: "stage", FindByTags: cluster == "",
				Targets: []manifest.Target{{Cluster: cluster, Region: "eu-west-1"}}}}}
	}
	for _, tc := range []struct {
		cluster string
		want    bool
	}{{"stage-cluster", false}, {"", true}} {
		doc := IAMPolicy(PolicyInput{Project: project(tc.cluster), AccountID: "123456789012"})
		var search *PolicyStatement
		for i, st := range doc.Statement {
			if slices.Contains(st.Action, "tag:GetResources") || slices.Contains(st.Action, "ecs:ListClusters") {
				search = &doc.Statement[i]
			}
		}
		switch {
		case !tc.want && search != nil:
			t.Errorf("cluster %q: the policy allows %v, which buoy does not call for it", tc.cluster, search.Action)
		case tc.want && (search == nil || !slices.Equal(search.Action, []string{"tag:GetResources", "ecs:ListClusters"}) ||
			!slices.Equal(search.Resource, []string{"*"})):
			t.Errorf("no cluster: got statement %+v, want tag:GetResources and ecs:ListClusters on *", search)
		}
	}
}
