package manifest

import (
	"regexp"

	"go.yaml.in/yaml/v3"
)

// Compiled once: these package-level regexps are unexported and never
// modified, so sharing them is safe and saves recompiling on every Parse.
var (
	idRe         = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	ecrTagRe     = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	roleARNRe    = regexp.MustCompile(`^arn:aws(?:-cn|-us-gov)?:iam::[0-9]{12}:role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}$`)
	regionRe     = regexp.MustCompile(`^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$`)
	accountRe    = regexp.MustCompile(`^[0-9]{12}$`)
	repositoryRe = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
	ecsNameRe    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$`)
	clusterARNRe = regexp.MustCompile(`^arn:aws(?:-cn|-us-gov)?:ecs:[a-z0-9-]+:[0-9]{12}:cluster/[A-Za-z0-9_-]{1,255}$`)
)

// The hints that say what to write instead of a malformed value.
const (
	hintID      = "use up to 64 letters, digits, '_', '.' or '-', starting with a letter or digit"
	hintRoleARN = "write arn:aws:iam::<12-digit account id>:role/<role name>"
	hintRegion  = "write an AWS region code such as eu-west-1"
	hintAccount = "write the 12-digit AWS account id in quotes, e.g. \"123456789012\""
	hintTag     = "an ECR tag is up to 128 letters, digits, '_', '.' or '-', and starts with a letter, digit or '_'"
	hintRepo    = "write the ECR repository name in lower case, e.g. uk.ac.wellcome/api"
	hintECSName = "an ECS name is up to 255 letters, digits, '-' or '_'"
)

// checkID reports an id that cannot be used in tags, SSM paths and keys.
func (d *decoder) checkID(n *yaml.Node, what, v string) {
	if v != "" && !idRe.MatchString(v) {
		d.errorf(n, hintID, "%s id %q is not valid", what, v)
	}
}

func (d *decoder) checkRoleARN(n *yaml.Node, v string) {
	if v != "" && !roleARNRe.MatchString(v) {
		d.errorf(n, hintRoleARN, "role_arn %q is not an IAM role ARN", v)
	}
}

func (d *decoder) checkRegion(n *yaml.Node, v string) {
	if v != "" && !regionRe.MatchString(v) {
		d.errorf(n, hintRegion, "region %q is not an AWS region code", v)
	}
}

func (d *decoder) checkAccount(n *yaml.Node, v string) {
	if v != "" && !accountRe.MatchString(v) {
		d.errorf(n, hintAccount, "account id %q is not 12 digits", v)
	}
}

func (d *decoder) checkRepository(n *yaml.Node, v string) {
	if v != "" && (len(v) < 2 || len(v) > 256 || !repositoryRe.MatchString(v)) {
		d.errorf(n, hintRepo, "repository %q is not a valid ECR repository name", v)
	}
}

func (d *decoder) checkECSName(n *yaml.Node, what, v string) {
	if v != "" && !ecsNameRe.MatchString(v) {
		d.errorf(n, hintECSName, "%s %q is not a valid ECS name", what, v)
	}
}

func (d *decoder) checkCluster(n *yaml.Node, v string) {
	if v != "" && !ecsNameRe.MatchString(v) && !clusterARNRe.MatchString(v) {
		d.errorf(n, "write the cluster name, or arn:aws:ecs:<region>:<account>:cluster/<name>", "cluster %q is not a valid ECS cluster name or ARN", v)
	}
}

// checkEnvTag reports an environment whose floating tag ECR would refuse.
func (d *decoder) checkEnvTag(n *yaml.Node, envID, tag string, explicit bool) {
	if tag == "" || ecrTagRe.MatchString(tag) {
		return
	}
	if explicit {
		d.errorf(n, hintTag, "tag %q of environment %q is not a valid ECR tag", tag, envID)
		return
	}
	d.errorf(n, "choose an id of letters, digits, '_', '.' or '-' (at most 124), or set tag: explicitly",
		"environment id %q would make the floating tag %q, which is not a valid ECR tag", envID, tag)
}

// ValidID reports whether s can be an id of the manifest (a project,
// image, service or environment), so that a caller can refuse a
// malformed id before looking it up.
func ValidID(s string) bool { return idRe.MatchString(s) }

// ValidTag reports whether ECR accepts s as an image tag.
func ValidTag(s string) bool { return ecrTagRe.MatchString(s) }

// ValidRegion reports whether s is written as an AWS region code.
func ValidRegion(s string) bool { return regionRe.MatchString(s) }
