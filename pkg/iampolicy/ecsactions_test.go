package iampolicy

import (
	"reflect"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// TestEveryECSCallIsAllowed: every ECS operation buoy calls (the methods
// of rollout.ECSAPI, StopServiceDeployment of --rollback among them) has
// its IAM action in Permissions, so that the policy `buoy iam-policy`
// prints allows it. A call added to rollout.ECSAPI without its
// permission fails here.
func TestEveryECSCallIsAllowed(t *testing.T) {
	t.Parallel()
	allowed := map[string]string{}
	for _, p := range Permissions() {
		if op, ok := strings.CutPrefix(p.Operation, "ECS."); ok {
			allowed[op] = p.Action
		}
	}
	api := reflect.TypeFor[rollout.ECSAPI]()
	for i := range api.NumMethod() {
		op := api.Method(i).Name
		if got, want := allowed[op], "ecs:"+op; got != want {
			t.Errorf("ECS.%s: IAM action %q, want %q", op, got, want)
		}
	}
}
