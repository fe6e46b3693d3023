package inputcheck

import "fmt"

// emptyHints says, per setting, what to write instead of an empty value.
// The settings are named as the CLI's flags, the Action's inputs and the
// plugin's options name them (kebab-case).
var emptyHints = map[string]string{
	"command":          "give one of release-deploy, prepare, deploy, promote, rollback, status or plan, or leave it out for release-deploy",
	"project":          "give the project id from the manifest, or leave it out when the manifest has one project",
	"environment":      "give the environment id from the manifest, e.g. stage",
	"from-label":       "give the tag to take the digests from, e.g. ref.3f2a9c1, or leave it out to use latest",
	"release":          "give a release id (`buoy history` lists them), or leave it out to deploy the latest release",
	"from-environment": "give the environment to promote from, e.g. stage, or leave it out to use the target's promotes_from",
	"manifest":         "give the manifest's path, or leave it out to use buoy.yaml, else .wellcome_project",
	"table":            "give the DynamoDB table, or leave it out for buoy-history",
	"region":           "give an AWS region such as eu-west-1, or leave it out to use AWS_REGION or the shared config",
	"profile":          "give an AWS shared config profile, or leave it out to use the default credentials",
	"timeout":          "write it like 30m, or leave it out for 30m",
	"lock-wait":        "write it like 10m (0 gives up at once), or leave it out for 5m",
	"lock-ttl":         "write it like 2m, or leave it out for 2m",
	"ecs-quota-share":  "write it like 0.5, or leave it out for 0.5",
	"ecs-rate":         "write it like 20, or leave it out for 20",
	"ecs-burst":        "write it like 50, or leave it out for 50",
	"wait":             "write true or false, or leave it out for true",
	"output":           "write text or json, or leave it out for text",
}

// Empty is the refusal of a setting given as an empty value where
// leaving it out means a default. An empty value is most often a variable
// that is unset or an expression that names nothing, so taking the
// default would deploy something else in silence (latest instead of a
// commit's label, the newest release instead of the one prepared).
// subject names the setting for the entrypoint's user, e.g. "--release",
// "input release" or `option "release"`; key is its kebab-case name.
func Empty(subject func(key string) string, key string) error {
	hint, ok := emptyHints[key]
	if !ok {
		hint = "give a value, or leave it out for the default"
	}
	return fmt.Errorf("%s is empty: %s (an empty value is often a variable that is not set)", subject(key), hint)
}
