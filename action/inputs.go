package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/buoy-deploy/buoy/internal/entry"
	"github.com/buoy-deploy/buoy/internal/inputcheck"
	"github.com/buoy-deploy/buoy/pkg/suggest"
)

// The names of the action's inputs, as declared in action.yml. The runner
// passes each as INPUT_<UPPER(name)>, hyphens kept (INPUT_FROM-LABEL).
const (
	inCommand           = "command"
	inProject           = "project"
	inEnvironment       = "environment"
	inFromLabel         = "from-label"
	inRelease           = "release"
	inFromEnvironment   = "from-environment"
	inDescription       = "description"
	inManifest          = "manifest"
	inTimeout           = "timeout"
	inWait              = "wait"
	inRollbackOnFailure = "rollback-on-failure"
	inDryRun            = "dry-run"
	inConfirm           = "confirm"
	inGitHubToken       = "github-token"
	inEnvironmentURL    = "environment-url"
	inTable             = "table"
	inAWSRegion         = "aws-region"
	inLockWait          = "lock-wait"
	inLockTTL           = "lock-ttl"
	inECSQuotaShare     = "ecs-quota-share"
	inECSRate           = "ecs-rate"
	inECSBurst          = "ecs-burst"
)

// inputNames lists every input the action reads; a test compares it with
// action.yml both ways.
func inputNames() []string {
	return []string{
		inCommand, inProject, inEnvironment, inFromLabel, inRelease, inFromEnvironment,
		inDescription, inManifest, inTimeout, inWait, inRollbackOnFailure, inDryRun,
		inConfirm, inGitHubToken, inEnvironmentURL, inTable, inAWSRegion,
		inLockWait, inLockTTL, inECSQuotaShare, inECSRate, inECSBurst,
	}
}

// noEmptyInputs are the inputs whose action.yml default is not empty:
// the runner passes such an input empty only when the step gives it
// empty, most often through an expression that names nothing
// (`release: ${{ needs.prepare.outputs.release_id }}` with a misspelt
// output), so an empty one is refused rather than taken as the default.
// A test compares the list with action.yml.
func noEmptyInputs() []string {
	return []string{
		inCommand, inFromLabel, inRelease, inTimeout, inWait, inRollbackOnFailure, inDryRun, inConfirm,
		inTable, inLockWait, inLockTTL, inECSQuotaShare, inECSRate, inECSBurst,
	}
}

// The names of the action's outputs, as declared in action.yml.
const (
	outReleaseID       = "release-id"
	outDeploymentID    = "deployment-id"
	outStatus          = "status"
	outImages          = "images"
	outServices        = "services"
	outSummaryMarkdown = "summary-markdown"
)

// outputNames lists every output the action writes; a test compares it
// with action.yml both ways.
func outputNames() []string {
	return []string{outReleaseID, outDeploymentID, outStatus, outImages, outServices, outSummaryMarkdown}
}

// settings are the validated inputs, read straight into what the
// entrypoints' shared layer takes, plus what only the Action uses.
type settings struct {
	// Request is the operation the inputs ask for: the command input
	// (Operation), environment, from-label (Label), release,
	// from-environment, description (default: the run's URL), timeout,
	// wait (NoWait), rollback-on-failure (Rollback), dry-run and confirm,
	// and who asks (Origin).
	entry.Request
	// Open is how to open buoy: the manifest, project, table, aws-region
	// (Region) inputs and the limits (lock-wait, lock-ttl,
	// ecs-quota-share, ecs-rate, ecs-burst), with the Action's advice.
	Open entry.Config

	GitHubToken    string
	EnvironmentURL string
	GitHub         githubContext
}

// githubContext is what the action needs of the workflow run beyond who
// asks (Origin): where to record a GitHub deployment and the workspace
// annotations are relative to.
type githubContext struct {
	Repository string // owner/name
	SHA        string
	APIURL     string
	Workspace  string
	// RunID, RunAttempt, Job and Step (GITHUB_ACTION: the step's id)
	// name this step of this attempt of the run, so that a retried step
	// finds the GitHub deployment it created.
	RunID, RunAttempt, Job, Step string
}

func readGitHubContext(a *githubactions.Action) githubContext {
	return githubContext{
		Repository: a.Getenv("GITHUB_REPOSITORY"),
		SHA:        a.Getenv("GITHUB_SHA"),
		APIURL:     a.Getenv("GITHUB_API_URL"),
		Workspace:  a.Getenv("GITHUB_WORKSPACE"),
		RunID:      a.Getenv("GITHUB_RUN_ID"),
		RunAttempt: a.Getenv("GITHUB_RUN_ATTEMPT"),
		Job:        a.Getenv("GITHUB_JOB"),
		Step:       a.Getenv("GITHUB_ACTION"),
	}
}

// readSettings reads and validates every input. It reports all problems at
// once, each saying what to write instead. environ is the process's
// environment (KEY=value), to find inputs action.yml does not declare;
// nil skips that check.
func readSettings(a *githubactions.Action, environ []string) (*settings, error) {
	var errs []error
	// Read only the declared inputs, so action.yml and the code agree.
	in := make(map[string]string, len(inputNames()))
	for _, name := range inputNames() {
		in[name] = a.GetInput(name)
	}
	errs = append(errs, unknownInputs(environ)...)
	errs = append(errs, emptyInputs(environ)...)
	if in[inRelease] == inputcheck.LatestRelease {
		in[inRelease] = ""
	}
	s := &settings{
		Request: entry.Request{
			Environment:     in[inEnvironment],
			Label:           in[inFromLabel],
			Release:         in[inRelease],
			FromEnvironment: in[inFromEnvironment],
			Description:     in[inDescription],
			Origin:          entry.ReadOrigin(a.Getenv, os.Hostname),
		},
		Open: entry.Config{
			Manifest: in[inManifest],
			Project:  in[inProject],
			Table:    in[inTable],
			Region:   in[inAWSRegion],
			Advice: entry.Advice{
				Manifest: "set the manifest input to its path (did the job check out the repository?)",
				Region:   "set the aws-region input, or aws-region in aws-actions/configure-aws-credentials (AWS_REGION)",
			},
			// The notify targets' URLs and secrets, from the step's env:
			// masked before the library gets them.
			Getenv: a.Getenv,
			Mask:   a.AddMask,
		},
		GitHubToken:    in[inGitHubToken],
		EnvironmentURL: in[inEnvironmentURL],
		GitHub:         readGitHubContext(a),
	}

	cmd, cmdErr := readCommand(in[inCommand])
	if cmdErr != nil {
		errs = append(errs, cmdErr)
	}
	s.Operation = cmd

	s.NoWait = !boolInput(in, inWait, true, &errs)
	s.Rollback = boolInput(in, inRollbackOnFailure, false, &errs)
	s.DryRun = boolInput(in, inDryRun, false, &errs)
	s.Confirm = boolInput(in, inConfirm, false, &errs)

	s.Open.Limits = readLimits(in, &errs)
	if t := in[inTimeout]; t != "" {
		d, err := inputcheck.Duration(t)
		if err != nil {
			errs = append(errs, fmt.Errorf("input %s: %w", inTimeout, err))
		}
		s.Timeout = d
	}
	for _, c := range []struct {
		name  string
		check func(string) error
	}{
		{inProject, inputcheck.ID},
		{inEnvironment, inputcheck.ID},
		{inFromLabel, inputcheck.Label},
		{inRelease, inputcheck.Release},
		{inFromEnvironment, inputcheck.ID},
		{inDescription, inputcheck.Text},
		{inManifest, inputcheck.Path},
		{inEnvironmentURL, inputcheck.URL},
		{inTable, inputcheck.Table},
		{inAWSRegion, inputcheck.Region},
	} {
		if v := in[c.name]; v != "" {
			if err := c.check(v); err != nil {
				errs = append(errs, fmt.Errorf("input %s: %w", c.name, err))
			}
		}
	}
	// The token is never quoted: an error must not print it.
	if inputcheck.Line(s.GitHubToken) != nil {
		errs = append(errs, fmt.Errorf("input %s holds a line break, a control character or is not text: pass the token alone, e.g. ${{ github.token }}", inGitHubToken))
	}

	if s.Environment == "" && cmd != entry.Prepare && cmd != entry.Status && cmdErr == nil {
		errs = append(errs, fmt.Errorf("input %s is required for command %s: add `%s: stage` (the environment id from the manifest) under `with:`", inEnvironment, cmd, inEnvironment))
	}
	if s.Release != "" && s.FromEnvironment != "" {
		errs = append(errs, fmt.Errorf("inputs %s and %s cannot be used together: deploy a release, or promote what an environment runs", inRelease, inFromEnvironment))
	}
	for _, u := range []struct {
		name string
		by   []entry.Operation
	}{
		{inRelease, []entry.Operation{entry.Deploy, entry.Plan}},
		{inFromEnvironment, []entry.Operation{entry.Promote, entry.Plan}},
	} {
		if in[u.name] != "" && cmdErr == nil && !slices.Contains(u.by, cmd) {
			errs = append(errs, fmt.Errorf("input %s is not used by command %s: remove it, or use command %s", u.name, cmd, u.by[0]))
		}
	}
	if s.Description == "" {
		s.Description = s.Origin.CI.BuildURL
	}
	if len(errs) > 0 {
		return nil, &inputError{errs: errs}
	}
	return s, nil
}

// readCommand reads the command input; empty means release-deploy.
func readCommand(v string) (entry.Operation, error) {
	if v == "" {
		return entry.ReleaseDeploy, nil
	}
	if op := entry.Operation(v); slices.Contains(entry.Operations(), op) {
		return op, nil
	}
	return entry.Operation(v), fmt.Errorf("input %s: %s is not a command; %s", inCommand, inputcheck.Quote(v), entry.OperationHint(v))
}

// unknownInputs reports each INPUT_ variable that names no input of
// action.yml: a misspelt input would otherwise be ignored in silence.
func unknownInputs(environ []string) []error {
	declared := map[string]bool{}
	for _, name := range inputNames() {
		declared[strings.ToUpper(name)] = true
	}
	var unknown []string
	for _, kv := range environ {
		key, _, _ := strings.Cut(kv, "=")
		name, ok := strings.CutPrefix(key, "INPUT_")
		if !ok || declared[name] {
			continue
		}
		unknown = append(unknown, strings.ToLower(name))
	}
	slices.Sort(unknown)
	errs := make([]error, 0, len(unknown))
	for _, name := range unknown {
		hint := "the inputs are " + strings.Join(inputNames(), ", ")
		if s := suggest.Closest(name, inputNames()); s != "" {
			hint = "did you mean " + s + "?"
		}
		errs = append(errs, fmt.Errorf("input %s is not an input of buoy: %s", inputcheck.Quote(name), hint))
	}
	return errs
}

// emptyInputs reports each input of noEmptyInputs that the environment
// (the runner's, which holds every input of action.yml) passes empty.
// Without an environment to look at (nil), it reports nothing.
func emptyInputs(environ []string) []error {
	var errs []error
	for _, kv := range environ {
		key, value, _ := strings.Cut(kv, "=")
		name, ok := strings.CutPrefix(key, "INPUT_")
		if !ok || strings.TrimSpace(value) != "" {
			continue
		}
		for _, in := range noEmptyInputs() {
			if strings.ToUpper(in) == name {
				errs = append(errs, inputcheck.Empty(func(key string) string { return "input " + key }, in))
			}
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errs
}

// boolInput reads a boolean input the way the Actions toolkit does: true,
// True, TRUE, false, False or FALSE; empty means def.
func boolInput(in map[string]string, name string, def bool, errs *[]error) bool {
	switch v := in[name]; v {
	case "":
		return def
	case "true", "True", "TRUE":
		return true
	case "false", "False", "FALSE":
		return false
	default:
		*errs = append(*errs, fmt.Errorf("input %s: %s is not a boolean; write true or false", name, inputcheck.Quote(v)))
		return def
	}
}

// readLimits reads lock-wait, lock-ttl, ecs-quota-share, ecs-rate and
// ecs-burst and checks
// them with the CLI's rules; an empty input means the CLI's default.
func readLimits(in map[string]string, errs *[]error) inputcheck.Limits {
	l := inputcheck.DefaultLimits()
	parseInput(in, inLockWait, inputcheck.AnyDuration, &l.LockWait, errs)
	parseInput(in, inLockTTL, inputcheck.AnyDuration, &l.LockTTL, errs)
	parseInput(in, inECSQuotaShare, inputcheck.Number, &l.ECSQuotaShare, errs)
	parseInput(in, inECSRate, inputcheck.Number, &l.ECSRate, errs)
	parseInput(in, inECSBurst, inputcheck.WholeNumber, &l.ECSBurst, errs)
	*errs = append(*errs, l.Problems(func(key string) string { return "input " + key })...)
	return l
}

// parseInput parses a non-empty input into *into, or adds why it cannot.
func parseInput[T any](in map[string]string, name string, parse func(string) (T, error), into *T, errs *[]error) {
	v := in[name]
	if v == "" {
		return
	}
	x, err := parse(v)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("input %s: %w", name, err))
		return
	}
	*into = x
}

// inputError holds every problem found in the inputs.
type inputError struct {
	errs []error
}

func (e *inputError) Error() string {
	msgs := make([]string, len(e.errs))
	for i, err := range e.errs {
		msgs[i] = err.Error()
	}
	return "invalid inputs: " + strings.Join(msgs, "; ")
}

// Unwrap gives the individual problems to errors.Is and errors.As.
func (e *inputError) Unwrap() []error { return e.errs }
