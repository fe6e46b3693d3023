package rollout_test

import (
	"encoding/json"
	"reflect"
)

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// equalJSON compares two values through their JSON forms, so that nil and
// empty slices are alike.
func equalJSON(a, b any) bool {
	var x, y any
	_ = json.Unmarshal([]byte(toJSON(a)), &x)
	_ = json.Unmarshal([]byte(toJSON(b)), &y)
	return reflect.DeepEqual(x, y)
}
