package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Annotation styles buildkite-agent annotate accepts.
const (
	styleSuccess = "success"
	styleInfo    = "info"
	styleWarning = "warning"
	styleError   = "error"
)

// commandRunner runs a program with arguments and standard input and
// returns what it wrote, standard error included.
type commandRunner interface {
	Run(ctx context.Context, name string, args []string, stdin io.Reader) ([]byte, error)
}

// agent is what the plugin asks of buildkite-agent.
type agent struct {
	run commandRunner
}

// annotate adds or replaces the build annotation with the given context;
// the Markdown body goes through standard input, so no value of it is ever
// parsed as a flag.
func (a agent) annotate(ctx context.Context, style, annotationContext, body string) error {
	out, err := a.run.Run(ctx, "buildkite-agent",
		[]string{"annotate", "--style", style, "--context", annotationContext}, strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("buildkite-agent annotate --context %s: %w%s", annotationContext, err, outputSuffix(out))
	}
	return nil
}

// setMetaData sets a build meta-data key; the value goes through standard
// input.
func (a agent) setMetaData(ctx context.Context, key, value string) error {
	out, err := a.run.Run(ctx, "buildkite-agent", []string{"meta-data", "set", key}, strings.NewReader(value))
	if err != nil {
		return fmt.Errorf("buildkite-agent meta-data set %s: %w%s", key, err, outputSuffix(out))
	}
	return nil
}

// redact adds a secret to the job's log redactor (buildkite-agent
// redactor add, agent v3.67 and later): the agent then hides it in every
// later line of the job's log, from any process. The value goes through
// standard input, whole (--format none).
func (a agent) redact(ctx context.Context, secret string) error {
	out, err := a.run.Run(ctx, "buildkite-agent", []string{"redactor", "add", "--format", "none"}, strings.NewReader(secret))
	if err != nil {
		return fmt.Errorf("buildkite-agent redactor add: %w%s", err, outputSuffix(out))
	}
	return nil
}

func outputSuffix(out []byte) string {
	s := strings.TrimSpace(string(out))
	if s == "" {
		return ""
	}
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return ": " + s
}

// execRunner runs programs found on the PATH of env (a list of KEY=value,
// like os.Environ), with env as their environment. Looking programs up in
// env rather than the process environment keeps tests independent.
type execRunner struct {
	env []string
}

// Run runs name with args and stdin, returning its combined output.
func (r execRunner) Run(ctx context.Context, name string, args []string, stdin io.Reader) ([]byte, error) {
	path, err := lookPath(name, envValue(r.env, "PATH"))
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = r.env
	cmd.Stdin = stdin
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err = cmd.Run()
	return out.Bytes(), err
}

// lookPath finds an executable file named name in the directories of
// pathList.
func lookPath(name, pathList string) (string, error) {
	for _, dir := range filepath.SplitList(pathList) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %s is not on PATH (the Buildkite agent puts it there for every job)", errNotFound, name)
}

var errNotFound = errors.New("program not found")

// envValue returns the last value of key in env.
func envValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}
