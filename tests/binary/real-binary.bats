#!/usr/bin/env bats
# hooks/command running the real plugin binary, built from this checkout
# with Go: what a job's log and the agent see of a configuration the
# binary refuses. Apart from tests/command.bats because Buildkite's plugin
# tester has no Go; `make test-hooks` runs both.

load "${BATS_PLUGIN_PATH:-/usr/lib/bats}/load.bash"

setup_file() {
  real_go="$(command -v go)" || {
    echo "go is not installed: these tests build the plugin binary" >&2
    return 1
  }
  (cd "$BATS_TEST_DIRNAME/../.." && "$real_go" build -o "$BATS_FILE_TMPDIR/real/buoy-buildkite-plugin" ./buildkite-plugin)
}

setup() {
  hook="$BATS_TEST_DIRNAME/../../hooks/command"
  stubs="$BATS_TEST_TMPDIR/stubs"
  tools="$BATS_TEST_TMPDIR/tools"
  mkdir -p "$stubs" "$tools"
  local t
  for t in bash env sh curl git sha256sum awk sed grep head cut tr mkdir mktemp chmod mv rm uname dirname cat; do
    ln -s "$(command -v "$t")" "$tools/$t"
  done
  export PATH="$stubs:$tools"
  export BUOY_CACHE_DIR="$BATS_TEST_TMPDIR/cache"
  export BUILDKITE_PLUGIN_NAME=BUOY_GIT
  export BUILDKITE_PLUGINS='[{"https://github.com/buoy-deploy/buoy.git#v1.2.3":{"environment":"stage"}}]'

  # buildkite-agent appends its arguments and standard input to a log.
  export AGENT_LOG="$BATS_TEST_TMPDIR/agent.log"
  cat >"$stubs/buildkite-agent" <<'EOF'
#!/usr/bin/env bash
{ echo "buildkite-agent $*"; cat; echo; } >>"$AGENT_LOG"
EOF
  chmod +x "$stubs/buildkite-agent"
}

@test "the plugin binary rejects a configuration without environment" {
  export BUILDKITE_PLUGIN_CONFIGURATION="{\"binary\":\"$BATS_FILE_TMPDIR/real/buoy-buildkite-plugin\",\"command\":\"deploy\"}"
  run "$hook"
  assert_equal "$status" 2
  assert_output --partial 'option "environment" is missing'
  run cat "$AGENT_LOG"
  assert_output --partial "buildkite-agent annotate --style error --context buoy"
  assert_output --partial "buildkite-agent meta-data set buoy:status"
}

@test "the plugin binary rejects an unknown option, naming it" {
  export BUILDKITE_PLUGIN_CONFIGURATION="{\"binary\":\"$BATS_FILE_TMPDIR/real/buoy-buildkite-plugin\",\"environment\":\"stage\",\"cluster\":\"prod\"}"
  run "$hook"
  assert_equal "$status" 2
  assert_output --partial 'unknown option "cluster"'
  run cat "$AGENT_LOG"
  assert_output --partial "buildkite-agent annotate --style error --context buoy-stage"
}
