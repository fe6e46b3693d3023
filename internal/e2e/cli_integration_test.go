//go:build integration

package e2e_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/internal/faultproxy"
)

// buildCLI builds cmd/buoy into a temporary directory (the Go build cache
// makes every build after the first quick) and returns its path.
func buildCLI(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bin := filepath.Join(t.TempDir(), "buoy")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/buoy")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the CLI: %v\n%s", err, out)
	}
	return bin
}

// run is one run of the CLI.
type run struct {
	cmd *exec.Cmd
	// stdout and stderr are written by the process while the test may
	// read them.
	stdout, stderr lockedBuffer
	// exited is closed when the process has ended; err is then what
	// cmd.Wait said.
	exited chan struct{}
	err    error
}

// lockedBuffer is a bytes.Buffer the process writes to while the test
// reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Bytes returns a copy of what was written so far.
func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

// hangGuard is how long a test waits for a run to get somewhere or to
// end before it calls it hung. It guards against hangs only: nothing is
// asserted about speed, and a loaded machine never comes near it.
const hangGuard = 5 * time.Minute

// cliEnv is the environment a CI job would give the CLI: credentials,
// region, the endpoint (the proxy in front of moto), who is asking.
func cliEnv(t *testing.T, endpoint, user string, extra ...string) []string {
	t.Helper()
	return append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"USER=" + user,
		"AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing",
		"AWS_REGION=" + awstest.Region,
		"AWS_ENDPOINT_URL=" + endpoint,
		"AWS_EC2_METADATA_DISABLED=true",
	}, extra...)
}

// start starts the CLI with args in env.
func start(t *testing.T, bin string, env []string, args ...string) *run {
	t.Helper()
	return startIn(t, "", bin, env, args...)
}

// startIn starts the CLI with args in env, in directory dir ("" is the
// test's), as a person runs it in their repository's checkout.
func startIn(t *testing.T, dir, bin string, env []string, args ...string) *run {
	t.Helper()
	r := &run{cmd: exec.Command(bin, args...), exited: make(chan struct{})}
	r.cmd.Dir = dir
	r.cmd.Env = env
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start buoy: %v", err)
	}
	go func() {
		r.err = r.cmd.Wait()
		close(r.exited)
	}()
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		<-r.exited
	})
	return r
}

// wait waits for the run to end and returns its exit code; a run still
// going after hangGuard is killed and fails the test as hung.
func (r *run) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-r.exited:
	case <-time.After(hangGuard):
		_ = r.cmd.Process.Kill()
		<-r.exited
		t.Fatalf("buoy hung: still running after %s\n%s", hangGuard, r.output())
	}
	var exit *exec.ExitError
	if errors.As(r.err, &exit) {
		return exit.ExitCode()
	}
	if r.err != nil {
		t.Fatalf("buoy: %v", r.err)
	}
	return 0
}

// output is what the run wrote; read it once the run has exited, or
// while it is stalled in a call.
func (r *run) output() string {
	return "stdout:\n" + r.stdout.String() + "\nstderr:\n" + r.stderr.String()
}

// deployArgs are the arguments of a release-deploy of the fixture.
func deployArgs(f *deployfixture.Fixture, extra ...string) []string {
	return append([]string{"release-deploy", "--manifest", f.Manifest, "--table", f.Table,
		"--environment", deployfixture.Environment, "--timeout", "1m"}, extra...)
}

// proxy starts a fault proxy in front of moto.
func proxy(t *testing.T, opts ...faultproxy.Option) *faultproxy.Proxy {
	t.Helper()
	return proxyFor(t, awstest.Endpoint(t), opts...)
}

// proxyFor starts a fault proxy in front of target.
func proxyFor(t *testing.T, target string, opts ...faultproxy.Option) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(target, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func contains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not say %q:\n%s", what, w, got)
		}
	}
}
