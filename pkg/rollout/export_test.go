package rollout

// What the external tests (package rollout_test) use of the package's
// unexported functions.
var (
	RegisterInput = registerInput
	IsThrottle    = isThrottle
)
