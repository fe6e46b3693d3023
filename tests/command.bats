#!/usr/bin/env bats
# Tests of hooks/command, run the way the agent runs it: with the plugin's
# options in BUILDKITE_PLUGIN_CONFIGURATION and BUILDKITE_PLUGINS, on a PATH
# that holds only the tools the hook may use plus stubs, so the real Go and
# network are never reached. They run under Buildkite's plugin tester
# (`docker run -v "$PWD:/plugin" buildkite/plugin-tester`: bats tests/,
# with bats-assert and bats-mock's stub/unstub from
# $BATS_PLUGIN_PATH/load.bash) and under `make test-hooks`, which installs
# the same libraries (scripts/install-bats). tests/binary/ holds the tests
# that need Go to build the real plugin binary.

load "${BATS_PLUGIN_PATH:-/usr/lib/bats}/load.bash"

setup() {
  # The test's own helpers (find, cmp, cp, mkfifo) run on the PATH they
  # had; the hook only gets $tools.
  host_path="$PATH"
  hook="$BATS_TEST_DIRNAME/../hooks/command"
  stubs="$BATS_TEST_TMPDIR/stubs"
  tools="$BATS_TEST_TMPDIR/tools"
  mkdir -p "$stubs" "$tools"
  local t
  # ln and touch are for bats-mock's stub.
  for t in bash env sh curl git sha256sum awk sed grep head cut tr mkdir mktemp chmod mv rm uname dirname cat ln touch; do
    ln -s "$(command -v "$t")" "$tools/$t"
  done
  # bats-mock's stubs (stub/unstub) go first on PATH, and keep their plans
  # with this test.
  export BATS_MOCK_TMPDIR="$BATS_TEST_TMPDIR"
  export BATS_MOCK_BINDIR="$BATS_TEST_TMPDIR/mocks"
  export PATH="$BATS_MOCK_BINDIR:$stubs:$tools"

  export BUOY_CACHE_DIR="$BATS_TEST_TMPDIR/cache"
  export BUILDKITE_PLUGIN_NAME=BUOY_GIT
  export BUILDKITE_PLUGIN_CONFIGURATION='{"environment":"stage"}'
  export BUILDKITE_PLUGIN_BUOY_ENVIRONMENT=stage
  export BUILDKITE_PLUGINS='[{"https://github.com/buoy-deploy/buoy.git#v1.2.3":{"environment":"stage"}}]'
  unset BUOY_RELEASE_BASE_URL

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

# stub_go makes `go build -o OUT ./buildkite-plugin`, run in the plugin
# checkout, write a stand-in binary to OUT (or, with "fail", fail), and
# records the directory it ran in.
stub_go() {
  local build='[ -d buildkite-plugin ] && pwd >"$BATS_TEST_TMPDIR/go-build-dir" && printf "#!/usr/bin/env bash\necho \"built binary ran with \$BUILDKITE_PLUGIN_CONFIGURATION\"\n" >"$3" && chmod +x "$3"'
  [ "${1:-}" != fail ] || build='echo "fake go: build failed" >&2; exit 1'
  stub go \
    "version : echo 'go version go1.26.8 fake'" \
    "build -o */buoy-buildkite-plugin ./buildkite-plugin : $build"
}

# no_partial_files fails if the cache holds a download or build that was
# left half-way.
no_partial_files() {
  PATH="$host_path" run find "$BUOY_CACHE_DIR" -name '.download.*' -o -name '.build.*' -o -name '*.part'
  assert_output ""
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
  assert_output --partial "Verified $asset v1.2.3 against checksums.txt"
  assert_output --partial "release v1.2.3 ran with {\"environment\":\"stage\"}"
  assert [ -x "$BUOY_CACHE_DIR/v1.2.3/$asset" ]
  assert [ -f "$BUOY_CACHE_DIR/v1.2.3/checksums.txt" ]
  no_partial_files

  # A second run reuses the verified binary.
  rm "$BATS_TEST_TMPDIR/releases/v1.2.3/$asset"
  run "$hook"
  assert_success
  assert_output --partial "release v1.2.3 ran"
}

@test "a warm cache needs no network: curl is never called" {
  release v1.2.3
  run "$hook"
  assert_success

  # No release server any more, and a curl that fails the test if called.
  rm -rf "$BATS_TEST_TMPDIR/releases"
  stub curl
  run "$hook"
  assert_success
  assert_output --partial "Using $asset v1.2.3 from the cache ($BUOY_CACHE_DIR/v1.2.3), matching its checksums.txt"
  assert_output --partial "release v1.2.3 ran"
  unstub curl
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
  stub go
  run "$hook"
  assert_failure
  assert_output --partial "checksum mismatch"
  refute_output --partial "ran with"
  assert [ ! -e "$BUOY_CACHE_DIR/v1.2.3/$asset" ]
  no_partial_files
  unstub go
}

@test "a cached binary that no longer matches its cached checksums.txt is downloaded again" {
  release v1.2.3
  run "$hook"
  assert_success
  fake_binary "$BUOY_CACHE_DIR/v1.2.3/$asset" "tampered"
  run "$hook"
  assert_success
  assert_output --partial "does not match its checksums.txt: downloading it again"
  assert_output --partial "release v1.2.3 ran"
  refute_output --partial "tampered"
}

@test "a cached binary without its checksums.txt is downloaded again" {
  release v1.2.3
  mkdir -p "$BUOY_CACHE_DIR/v1.2.3"
  fake_binary "$BUOY_CACHE_DIR/v1.2.3/$asset" "tampered"
  run "$hook"
  assert_success
  assert_output --partial "release v1.2.3 ran"
}

@test "two agents sharing a cache download into files of their own, renamed into place" {
  release v1.2.3
  # A curl that, for the binary, writes half of it, says where, and waits
  # until the test lets it finish: both jobs are then mid-download.
  PATH="$host_path" mkfifo "$BATS_TEST_TMPDIR/arrived" "$BATS_TEST_TMPDIR/gate"
  # Held open read-write by the test (fd 3 is bats's own), so that
  # neither side blocks on opening them.
  exec 7<>"$BATS_TEST_TMPDIR/arrived" 8<>"$BATS_TEST_TMPDIR/gate"
  cat >"$stubs/curl" <<EOF
#!/usr/bin/env bash
out="" url=""
while [ \$# -gt 0 ]; do case "\$1" in -o) out="\$2"; shift 2 ;; *) url="\$1"; shift ;; esac; done
src="\${url#file://}"
case "\$src" in
*/$asset)
  head -c 10 "\$src" >"\$out"
  echo "\$out" >"$BATS_TEST_TMPDIR/arrived"
  read -r _ <"$BATS_TEST_TMPDIR/gate"
  cat "\$src" >"\$out" ;;
*) cat "\$src" >"\$out" ;;
esac
EOF
  chmod +x "$stubs/curl"

  "$hook" >"$BATS_TEST_TMPDIR/job1.log" 2>&1 3>&- 7>&- 8>&- &
  job1=$!
  "$hook" >"$BATS_TEST_TMPDIR/job2.log" 2>&1 3>&- 7>&- 8>&- &
  job2=$!
  read -r -t 60 part1 <&7 || fail "the first job never started downloading the binary"
  read -r -t 60 part2 <&7 || fail "the second job never started downloading the binary (does one job wait for the other?)"
  # Both half-written, side by side, neither where the binary goes.
  assert_not_equal "$part1" "$part2"
  assert [ -s "$part1" ]
  assert [ -s "$part2" ]
  assert [ ! -e "$BUOY_CACHE_DIR/v1.2.3/$asset" ]
  printf 'go\ngo\n' >&8
  wait "$job1" || fail "job 1 failed: $(cat "$BATS_TEST_TMPDIR/job1.log")"
  wait "$job2" || fail "job 2 failed: $(cat "$BATS_TEST_TMPDIR/job2.log")"

  run cat "$BATS_TEST_TMPDIR/job1.log" "$BATS_TEST_TMPDIR/job2.log"
  assert_output --partial "release v1.2.3 ran"
  refute_output --partial "checksum mismatch"
  PATH="$host_path" cmp "$BUOY_CACHE_DIR/v1.2.3/$asset" "$BATS_TEST_TMPDIR/releases/v1.2.3/$asset"
  no_partial_files
}

@test "#v1 or a commit SHA downloads the release tagged on the plugin checkout's commit" {
  release v1.2.3
  # The plugin as the agent clones it: a git checkout with its tags.
  local checkout="$BATS_TEST_TMPDIR/plugins/buoy"
  mkdir -p "$checkout/hooks"
  PATH="$host_path" cp "$hook" "$checkout/hooks/command"
  git -C "$checkout" init -q
  git -C "$checkout" add hooks
  git -C "$checkout" -c user.name=t -c user.email=t@example.com commit -q -m release
  git -C "$checkout" tag v1.2.2
  git -C "$checkout" tag v1.2.3
  git -C "$checkout" tag v1.2.3-rc.1
  git -C "$checkout" tag v1
  local sha
  sha="$(git -C "$checkout" rev-parse HEAD)"
  for ref in v1 "$sha"; do
    export BUILDKITE_PLUGINS="[{\"https://github.com/buoy-deploy/buoy.git#$ref\":{\"environment\":\"stage\"}}]"
    run "$checkout/hooks/command"
    assert_success
    assert_output --partial "release v1.2.3 ran"
  done
}

@test "builds from the plugin checkout with Go when download is false" {
  release v1.2.3
  stub_go
  export BUILDKITE_PLUGIN_CONFIGURATION='{"environment":"stage","download":false}'
  run "$hook"
  assert_success
  assert_output --partial "built binary ran with {\"environment\":\"stage\",\"download\":false}"
  assert_equal "$(cat "$BATS_TEST_TMPDIR/go-build-dir")" "$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
  assert [ -x "$BUOY_CACHE_DIR/build/buoy-buildkite-plugin" ]
  no_partial_files
  unstub go
}

@test "falls back to building when the release cannot be downloaded" {
  export BUOY_RELEASE_BASE_URL="file://$BATS_TEST_TMPDIR/no-releases"
  stub_go
  run "$hook"
  assert_success
  assert_output --partial "could not download"
  assert_output --partial "built binary ran"
  no_partial_files
  unstub go
}

@test "builds when the plugin's ref is not a version" {
  export BUILDKITE_PLUGINS='[{"https://github.com/buoy-deploy/buoy.git#main":{"environment":"stage"}}]'
  stub_go
  run "$hook"
  assert_success
  assert_output --partial "No version to download"
  assert_output --partial "built binary ran"
  unstub go
}

@test "a failed go build is an error" {
  stub_go fail
  export BUILDKITE_PLUGIN_CONFIGURATION='{"environment":"stage","download":false}'
  run "$hook"
  assert_failure
  assert_output --partial "go build in"
  assert_output --partial "failed"
  no_partial_files
  unstub go
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
