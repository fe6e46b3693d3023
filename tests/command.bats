#!/usr/bin/env bats
# Tests of hooks/command, run the way the agent runs it: with the plugin's
# options in BUILDKITE_PLUGIN_CONFIGURATION and BUILDKITE_PLUGINS, on a PATH
# that holds only the tools the hook may use plus stubs (go,
# buildkite-agent), so the real Go and network are never reached.
# Run with `make test-hooks` (scripts/install-bats installs bats).

setup_file() {
  # The real plugin binary, for the tests of how it rejects bad options.
  real_go="$(command -v go)" || {
    echo "go is not installed: the hook tests build the plugin binary" >&2
    return 1
  }
  (cd "$BATS_TEST_DIRNAME/.." && "$real_go" build -o "$BATS_FILE_TMPDIR/real/buoy-buildkite-plugin" ./buildkite-plugin)
}

setup() {
  load '/usr/lib/bats/bats-support/load'
  load '/usr/lib/bats/bats-assert/load'

  hook="$BATS_TEST_DIRNAME/../hooks/command"
  stubs="$BATS_TEST_TMPDIR/stubs"
  tools="$BATS_TEST_TMPDIR/tools"
  mkdir -p "$stubs" "$tools"
  local t
  for t in bash env sh curl sha256sum awk sed grep head cut tr mkdir chmod mv rm uname dirname cat printf; do
    ln -s "$(command -v "$t")" "$tools/$t"
  done
  export PATH="$stubs:$tools"

  export BUOY_CACHE_DIR="$BATS_TEST_TMPDIR/cache"
  export BUILDKITE_PLUGIN_NAME=BUOY_GIT
  export BUILDKITE_PLUGIN_CONFIGURATION='{"environment":"stage"}'
  export BUILDKITE_PLUGIN_BUOY_ENVIRONMENT=stage
  export BUILDKITE_PLUGINS='[{"https://github.com/buoy-deploy/buoy.git#v1.2.3":{"environment":"stage"}}]'
  unset BUOY_RELEASE_BASE_URL

  # buildkite-agent appends its arguments and standard input to a log.
  export AGENT_LOG="$BATS_TEST_TMPDIR/agent.log"
  cat >"$stubs/buildkite-agent" <<'EOF'
#!/usr/bin/env bash
{ echo "buildkite-agent $*"; cat; echo; } >>"$AGENT_LOG"
EOF
  chmod +x "$stubs/buildkite-agent"

  case "$(uname -m)" in aarch64 | arm64) arch=arm64 ;; *) arch=amd64 ;; esac
  asset="buoy-buildkite-plugin_$(uname -s | tr 'A-Z' 'a-z')_$arch"
}

# fake_binary PATH LABEL writes a stand-in for buoy-buildkite-plugin that
# says which one it is and what configuration it got.
fake_binary() {
  mkdir -p "$(dirname "$1")"
  printf '#!/usr/bin/env bash\necho "%s ran with $BUILDKITE_PLUGIN_CONFIGURATION"\n' "$2" >"$1"
  chmod +x "$1"
}

# release VERSION [CHECKSUM] publishes a fake release under a file:// URL;
# CHECKSUM replaces the real one in checksums.txt.
release() {
  local dir="$BATS_TEST_TMPDIR/releases/$1"
  fake_binary "$dir/$asset" "release $1"
  local sum
  sum="${2:-$(sha256sum "$dir/$asset" | cut -d ' ' -f 1)}"
  printf '%s  %s\n%s  %s\n' "$(printf 'x%.0s' {1..64})" buoy_other_os "$sum" "$asset" >"$dir/checksums.txt"
  export BUOY_RELEASE_BASE_URL="file://$BATS_TEST_TMPDIR/releases"
}

# fake_go makes `go build -o OUT ./buildkite-plugin` write a stand-in binary
# to OUT, and records where it ran.
fake_go() {
  cat >"$stubs/go" <<EOF
#!/usr/bin/env bash
[ "\$1" = version ] && { echo "go version go1.26.8 fake"; exit 0; }
echo "go \$* in \$PWD" >>"$BATS_TEST_TMPDIR/go.log"
[ "\$1 \$2 \$4" = "build -o ./buildkite-plugin" ] && [ -d buildkite-plugin ] || { echo "fake go: unexpected \$*" >&2; exit 1; }
${1:-} printf '#!/usr/bin/env bash\necho "built binary ran with \$BUILDKITE_PLUGIN_CONFIGURATION"\n' >"\$3" && chmod +x "\$3"
EOF
  chmod +x "$stubs/go"
}

@test "runs the binary the binary option names" {
  fake_binary "$BATS_TEST_TMPDIR/opt/buoy" "preinstalled"
  export BUILDKITE_PLUGIN_CONFIGURATION="{\"binary\":\"$BATS_TEST_TMPDIR/opt/buoy\",\"environment\":\"stage\"}"
  run "$hook"
  assert_success
  assert_output --partial "preinstalled ran with {\"binary\":"
}

@test "reads the binary option of a plugin vendored at the repository root (empty name)" {
  fake_binary "$BATS_TEST_TMPDIR/opt/buoy" "vendored"
  export BUILDKITE_PLUGIN_NAME=""
  export BUILDKITE_PLUGIN_CONFIGURATION='{"environment":"stage"}'
  export BUILDKITE_PLUGIN__BINARY="$BATS_TEST_TMPDIR/opt/buoy"
  run "$hook"
  assert_success
  assert_output --partial "vendored ran"
}

@test "reads the flattened binary option under the name the agent gives buoy.git (BUOY_GIT)" {
  fake_binary "$BATS_TEST_TMPDIR/opt/buoy" "flattened"
  export BUILDKITE_PLUGIN_NAME=BUOY_GIT
  export BUILDKITE_PLUGIN_CONFIGURATION='{"environment":"stage"}'
  export BUILDKITE_PLUGIN_BUOY_GIT_BINARY="$BATS_TEST_TMPDIR/opt/buoy"
  run "$hook"
  assert_success
  assert_output --partial "flattened ran"
}

@test "fails when the binary option names no executable" {
  export BUILDKITE_PLUGIN_CONFIGURATION="{\"binary\":\"$BATS_TEST_TMPDIR/nope\",\"environment\":\"stage\"}"
  run "$hook"
  assert_failure
  assert_output --partial "which is not an executable file"
  assert_output --partial "^^^ +++"
}

@test "downloads the release of the plugin's version and checks its checksum" {
  release v1.2.3
  run "$hook"
  assert_success
  assert_output --partial "release v1.2.3 ran with {\"environment\":\"stage\"}"
  assert [ -x "$BUOY_CACHE_DIR/v1.2.3/$asset" ]

  # A second run reuses the verified binary.
  rm "$BATS_TEST_TMPDIR/releases/v1.2.3/$asset"
  run "$hook"
  assert_success
  assert_output --partial "release v1.2.3 ran"
}

@test "the version option overrides the plugin's ref" {
  release v2.0.0
  export BUILDKITE_PLUGIN_CONFIGURATION='{"environment":"stage","version":"v2.0.0"}'
  run "$hook"
  assert_success
  assert_output --partial "release v2.0.0 ran"
}

@test "a checksum mismatch is a hard error, even when Go could build" {
  release v1.2.3 "$(printf '0%.0s' {1..64})"
  fake_go
  run "$hook"
  assert_failure
  assert_output --partial "checksum mismatch"
  refute_output --partial "ran with"
  assert [ ! -e "$BUOY_CACHE_DIR/v1.2.3/$asset" ]
  assert [ ! -e "$BATS_TEST_TMPDIR/go.log" ]
}

@test "a cached binary that no longer matches is downloaded again" {
  release v1.2.3
  mkdir -p "$BUOY_CACHE_DIR/v1.2.3"
  fake_binary "$BUOY_CACHE_DIR/v1.2.3/$asset" "tampered"
  run "$hook"
  assert_success
  assert_output --partial "release v1.2.3 ran"
}

@test "builds from the plugin checkout with Go when download is false" {
  release v1.2.3
  fake_go
  export BUILDKITE_PLUGIN_CONFIGURATION='{"environment":"stage","download":false}'
  run "$hook"
  assert_success
  assert_output --partial "built binary ran with {\"environment\":\"stage\",\"download\":false}"
  run cat "$BATS_TEST_TMPDIR/go.log"
  assert_output "go build -o $BUOY_CACHE_DIR/build/buoy-buildkite-plugin ./buildkite-plugin in $(cd "$BATS_TEST_DIRNAME/.." && pwd)"
}

@test "falls back to building when the release cannot be downloaded" {
  export BUOY_RELEASE_BASE_URL="file://$BATS_TEST_TMPDIR/no-releases"
  fake_go
  run "$hook"
  assert_success
  assert_output --partial "could not download"
  assert_output --partial "built binary ran"
}

@test "builds when the plugin's ref is not a version" {
  export BUILDKITE_PLUGINS='[{"https://github.com/buoy-deploy/buoy.git#main":{"environment":"stage"}}]'
  fake_go
  run "$hook"
  assert_success
  assert_output --partial "No version to download"
  assert_output --partial "built binary ran"
}

@test "a failed go build is an error" {
  fake_go "false &&"
  export BUILDKITE_PLUGIN_CONFIGURATION='{"environment":"stage","download":false}'
  run "$hook"
  assert_failure
  assert_output --partial "go build in"
  assert_output --partial "failed"
}

@test "names the three ways to get the binary when none works" {
  export BUILDKITE_PLUGIN_CONFIGURATION='{"environment":"stage","download":false}'
  run "$hook"
  assert_failure
  assert_output --partial "could not obtain buoy-buildkite-plugin"
  assert_output --partial "(1) set the binary option"
  assert_output --partial "(2) use a released version"
  assert_output --partial "(3) install Go on the agent"
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
