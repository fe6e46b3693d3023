package entry

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/buoy-deploy/buoy/internal/inputcheck"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/suggest"
)

// Operation is what a run does: the CLI's command, the Action's command
// input, the plugin's command option.
type Operation string

// The operations, as every entrypoint names them.
const (
	ReleaseDeploy Operation = "release-deploy"
	Prepare       Operation = "prepare"
	Deploy        Operation = "deploy"
	Promote       Operation = "promote"
	Rollback      Operation = "rollback"
	Status        Operation = "status"
	Plan          Operation = "plan"
)

// Operations lists the operations in the order the entrypoints'
// documentation does.
func Operations() []Operation {
	return []Operation{ReleaseDeploy, Prepare, Deploy, Promote, Rollback, Status, Plan}
}

// OperationHint says what to write instead of v, a name that is not an
// operation: the closest name, if one is close, and all of them.
func OperationHint(v string) string {
	names := make([]string, 0, len(Operations()))
	for _, o := range Operations() {
		names = append(names, string(o))
	}
	all := strings.Join(names, ", ")
	if s := suggest.Closest(v, names); s != "" {
		return fmt.Sprintf("did you mean %s? (the commands are %s)", s, all)
	}
	return "use one of " + all
}

// Changes says whether the operation changes an environment (unless it
// is a dry run).
func (o Operation) Changes() bool {
	switch o {
	case ReleaseDeploy, Deploy, Promote, Rollback:
		return true
	}
	return false
}

// Request is one operation as an entrypoint asks for it, from its flags,
// inputs or options.
type Request struct {
	Operation Operation
	// Environment is the environment to deploy to (or plan for); for
	// status, the one to report, "" for Environments.
	Environment string
	// Environments are the environments status reports when Environment
	// is ""; none means all.
	Environments []string
	// Label is the tag release-deploy and prepare take digests from;
	// "" means deploy.DefaultLabel.
	Label string
	// Release is the release deploy applies: an id, a unique prefix, or
	// inputcheck.LatestRelease or "" for the latest. A plan with one plans
	// a deploy.
	Release string
	// FromEnvironment is the environment promote takes the release from;
	// "" means the target's promotes_from. A plan with one plans a
	// promotion.
	FromEnvironment string
	// Description is free text kept in the history.
	Description string
	// Origin is who asks and from which build (ReadOrigin).
	Origin Origin
	// Timeout, RollbackTimeout, NoWait, Rollback, DryRun and Confirm are
	// deploy.Request's. Confirm is the confirmation the entrypoint was
	// given; the library decides whether one is needed.
	Timeout, RollbackTimeout          time.Duration
	NoWait, Rollback, DryRun, Confirm bool
}

// Outcome is what an operation gave: one of its fields, by operation.
type Outcome struct {
	// Ran is the operation that ran: a plan's is the one it planned
	// (release-deploy, deploy or promote), run as a dry run.
	Ran Operation
	// Result is a deploying operation's (and a plan's); it may come with
	// an error, when the library refused or the deployment failed.
	Result *deploy.Result
	// Release is prepare's new release.
	Release *history.Release
	// Status is status's report.
	Status *deploy.StatusReport
}

// Do runs the request's operation on d. A plan runs the operation it
// plans as a dry run.
func Do(ctx context.Context, d Deployer, r Request) (Outcome, error) {
	ran, err := r.ran()
	out := Outcome{Ran: ran}
	if err != nil {
		return out, err
	}
	switch ran {
	case Prepare:
		out.Release, err = d.Prepare(ctx, deploy.PrepareInput{Label: r.Label, RequestedBy: r.Origin.RequestedBy, Description: r.Description, CI: r.Origin.CI})
	case Status:
		out.Status, err = d.Status(ctx, deploy.StatusInput{Environments: r.statusEnvironments()})
	case Deploy:
		release := r.Release
		if release == inputcheck.LatestRelease {
			release = "" // the latest release
		}
		out.Result, err = d.Deploy(ctx, deploy.DeployInput{Request: r.deployRequest(), Release: release})
	case Promote:
		out.Result, err = d.Promote(ctx, deploy.PromoteInput{Request: r.deployRequest(), From: r.FromEnvironment})
	case Rollback:
		out.Result, err = d.Rollback(ctx, deploy.RollbackInput{Request: r.deployRequest()})
	case ReleaseDeploy:
		out.Result, err = d.ReleaseDeploy(ctx, deploy.ReleaseDeployInput{Request: r.deployRequest(), Label: r.Label})
	}
	return out, err
}

// ran is the operation Do runs for r: the planned one for a plan.
func (r Request) ran() (Operation, error) {
	switch {
	case r.Operation != Plan:
		if !slices.Contains(Operations(), r.Operation) {
			return r.Operation, fmt.Errorf("%w: %s is not an operation: %s", deploy.ErrInvalidInput, inputcheck.Quote(string(r.Operation)), OperationHint(string(r.Operation)))
		}
		return r.Operation, nil
	case r.Release != "" && r.FromEnvironment != "":
		return Plan, fmt.Errorf("%w: a plan is of a deploy (a release) or of a promotion (an environment to promote from), not both", deploy.ErrInvalidInput)
	case r.Release != "":
		return Deploy, nil
	case r.FromEnvironment != "":
		return Promote, nil
	}
	return ReleaseDeploy, nil
}

// deployRequest is the library's request of a deploying operation.
func (r Request) deployRequest() deploy.Request {
	return deploy.Request{
		Environment:     r.Environment,
		RequestedBy:     r.Origin.RequestedBy,
		Description:     r.Description,
		CI:              r.Origin.CI,
		Timeout:         r.Timeout,
		RollbackTimeout: r.RollbackTimeout,
		NoWait:          r.NoWait,
		Rollback:        r.Rollback,
		DryRun:          r.DryRun || r.Operation == Plan,
		Confirm:         r.Confirm,
	}
}

// statusEnvironments are the environments status reports.
func (r Request) statusEnvironments() []string {
	if r.Environment != "" {
		return []string{r.Environment}
	}
	return r.Environments
}
