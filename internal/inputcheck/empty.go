package inputcheck

import (
	"fmt"

	"github.com/buoy-deploy/buoy/pkg/deploy"
)

// emptyHint says what to write instead of an empty value of the setting
// key, with the library's default where there is one. The settings are
// named as the CLI's flags, the Action's inputs and the plugin's options
// name them (kebab-case).
func emptyHint(key string) string {
	switch key {
	case "command":
		return "give one of release-deploy, prepare, deploy, promote, rollback, status or plan, or leave it out for release-deploy"
	case "project":
		return "give the project id from the manifest, or leave it out when the manifest has one project"
	case "environment":
		return "give the environment id from the manifest, e.g. stage"
	case "from-label":
		return "give the tag to take the digests from, e.g. ref.3f2a9c1, or leave it out to use " + deploy.DefaultLabel
	case "release":
		return "give a release id (`buoy history` lists them), or leave it out to deploy the latest release"
	case "from-environment":
		return "give the environment to promote from, e.g. stage, or leave it out to use the target's promotes_from"
	case "manifest":
		return "give the manifest's path, or leave it out to use buoy.yaml, else .wellcome_project"
	case "table":
		return "give the DynamoDB table, or leave it out for " + deploy.DefaultTable
	case "region":
		return "give an AWS region such as eu-west-1, or leave it out to use AWS_REGION or the shared config"
	case "profile":
		return "give an AWS shared config profile, or leave it out to use the default credentials"
	case "timeout":
		return "write it like 30m, or leave it out for " + shortDuration(deploy.DefaultTimeout)
	case "lock-wait":
		return "write it like 10m (0 gives up at once), or leave it out for " + shortDuration(deploy.DefaultLockWait)
	case "lock-ttl":
		return "write it like 2m, or leave it out for " + shortDuration(deploy.DefaultLockTTL)
	case "ecs-quota-share":
		return fmt.Sprintf("write it like 0.5, or leave it out for %v", deploy.DefaultECSQuotaShare)
	case "ecs-rate":
		return fmt.Sprintf("write it like 20, or leave it out for %v", deploy.DefaultECSRate)
	case "ecs-burst":
		return fmt.Sprintf("write it like 50, or leave it out for %d", deploy.DefaultECSBurst)
	case "wait":
		return "write true or false, or leave it out for true"
	case "output":
		return "write text or json, or leave it out for text"
	}
	return "give a value, or leave it out for the default"
}

// Empty is the refusal of a setting given as an empty value where
// leaving it out means a default. An empty value is most often a variable
// that is unset or an expression that names nothing, so taking the
// default would deploy something else in silence (latest instead of a
// commit's label, the newest release instead of the one prepared).
// subject names the setting for the entrypoint's user, e.g. "--release",
// "input release" or `option "release"`; key is its kebab-case name.
func Empty(subject func(key string) string, key string) error {
	return fmt.Errorf("%s is empty: %s (an empty value is often a variable that is not set)", subject(key), emptyHint(key))
}
