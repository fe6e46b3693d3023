#!/usr/bin/env bash
# The first step of buoy's composite Action (action.yml): put the
# buoy-action binary for this runner on disk and write its path to the
# step output `bin` (and its version to `version`); the next step runs it
# with the inputs. It runs under `shell: bash` on Linux, macOS and Windows
# (Git Bash) runners. The binary comes from, in order:
#
#   1. the runner's tool cache, $RUNNER_TOOL_CACHE/buoy-action/<version>/<arch>,
#      when an earlier run of this version put it there: used when it still
#      matches the checksums.txt cached beside it, with no network;
#   2. the GitHub release of the action's version: the asset
#      buoy-action_<os>_<arch>[.exe], checked against the release's
#      checksums.txt and, when cosign is installed, checksums.txt against
#      its signature by the release workflow; then cached as in 1;
#   3. `go build` in the action's checkout, when the action's ref is no
#      release (a branch, `uses: ./`) and Go is installed.
#
# The version is the action's ref when it is a release tag (v1.2.3); a
# major or minor tag (v1, v1.2) or a commit SHA is the release tagged on
# the same commit, found with `git ls-remote` on the action's repository.
# The ref and repository are those of the runner's checkout of this
# action (GITHUB_ACTION_PATH, .../_actions/<owner>/<repo>/<ref>), else
# github.action_ref and github.action_repository, which the runner gets
# wrong for an action used inside another composite action.
#
# A runner with no release binary (an OS or architecture other than
# Linux, macOS, Windows on X64, ARM64) is an error for a release ref: the
# action stops before running anything.
#
# Environment (action.yml sets the first two; the runner, the rest):
#   BUOY_ACTION_REF         github.action_ref (empty for uses: ./)
#   BUOY_ACTION_REPOSITORY  github.action_repository (empty for uses: ./)
#   GITHUB_ACTION_PATH, GITHUB_OUTPUT, RUNNER_OS, RUNNER_ARCH,
#   RUNNER_TOOL_CACHE, RUNNER_TEMP
#   BUOY_RELEASE_SERVER     where the repository and its releases are
#                           served (default https://github.com; a mirror,
#                           or a test's server)
set -euo pipefail

name=buoy-action
ref="${BUOY_ACTION_REF:-}"
repository="${BUOY_ACTION_REPOSITORY:-}"
# The runner checks a `uses: owner/repo@ref` action out to
# _actions/owner/repo/ref.
if [[ "${GITHUB_ACTION_PATH:-}" =~ [/\\]_actions[/\\]([^/\\]+)[/\\]([^/\\]+)[/\\]([^/\\]+)[/\\]?$ ]]; then
  repository="${BASH_REMATCH[1]}/${BASH_REMATCH[2]}"
  ref="${BASH_REMATCH[3]}"
fi
server="${BUOY_RELEASE_SERVER:-https://github.com}"
server="${server%/}"
# The identity cosign checks: the release workflow of this repository on
# GitHub, run for the release's tag, signing with GitHub's OIDC token.
signer_issuer="https://token.actions.githubusercontent.com"

die() {
  echo "::error title=buoy::$*"
  exit 1
}

# On Windows runners the runner's paths are Windows paths; Git Bash's
# tools take them in its own form.
unix_path() {
  if command -v cygpath >/dev/null 2>&1; then cygpath -u "$1"; else printf '%s' "$1"; fi
}

output() {
  printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
}

# platform sets os, arch, ext and tool_arch from RUNNER_OS and
# RUNNER_ARCH, or returns 1 when no release binary exists for them.
platform() {
  case "${RUNNER_OS:-}" in
    Linux) os=linux ext="" ;;
    macOS) os=darwin ext="" ;;
    Windows) os=windows ext=".exe" ;;
    *) return 1 ;;
  esac
  case "${RUNNER_ARCH:-}" in
    X64) arch=amd64 tool_arch=x64 ;;
    ARM64) arch=arm64 tool_arch=arm64 ;;
    *) return 1 ;;
  esac
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  else
    shasum -a 256 "$1" | cut -d ' ' -f 1
  fi
}

# listed CHECKSUMS ASSET prints the SHA-256 checksums.txt gives ASSET.
listed() {
  awk -v f="$2" '$2 == f || $2 == "*" f { print $1; exit }' "$1"
}

fetch() {
  curl -fsSL --retry 3 --retry-delay 1 --connect-timeout 10 -o "$2" "$1"
}

# release_version prints the release the action's ref stands for, or
# nothing when it stands for none.
release_version() {
  if [[ "$ref" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
    printf '%s' "$ref"
    return
  fi
  [ -n "$repository" ] || return 0
  [[ "$ref" =~ ^(v[0-9]+(\.[0-9]+)?|[0-9a-f]{40})$ ]] || return 0
  local tags
  tags="$(git ls-remote --tags "$server/$repository.git" 2>/dev/null)" || {
    echo "Could not list the tags of $server/$repository to find the release of $ref" >&2
    return 0
  }
  # The release tag (vX.Y.Z, the highest; a prerelease only when no
  # release) on the commit the ref names. An annotated tag's commit is
  # its peeled ^{} line.
  printf '%s\n' "$tags" | awk -v ref="$ref" '
    {
      tag = $2; sub(/^refs\/tags\//, "", tag)
      if (sub(/\^\{\}$/, "", tag) || !(tag in commit)) commit[tag] = $1
    }
    function newer(a, b,   x, y, i) {
      split(substr(a, 2), x, "."); split(substr(b, 2), y, ".")
      for (i = 1; i <= 3; i++) if (x[i] + 0 != y[i] + 0) return x[i] + 0 > y[i] + 0
      return 0
    }
    END {
      target = (ref in commit) ? commit[ref] : ref
      for (tag in commit) {
        if (commit[tag] != target) continue
        if (tag ~ /^v[0-9]+\.[0-9]+\.[0-9]+$/) {
          if (best == "" || newer(tag, best)) best = tag
        } else if (tag ~ /^v[0-9]+\.[0-9]+\.[0-9]+-/ && (pre == "" || tag > pre)) {
          pre = tag
        }
      }
      if (best == "") best = pre
      printf "%s", best
    }'
}

# cached DIR VERSION sets bin to the tool cache's binary when it is
# complete and matches its checksums.txt.
cached() {
  local want
  [ -f "$1.complete" ] && [ -x "$1/$asset" ] && [ -f "$1/checksums.txt" ] || return 1
  want="$(listed "$1/checksums.txt" "$asset")"
  if [ -z "$want" ] || [ "$(sha256 "$1/$asset")" != "$want" ]; then
    echo "The cached $asset in $1 does not match its checksums.txt: downloading it again"
    return 1
  fi
  echo "$name $2 for $os/$arch from the tool cache ($1), matching its checksums.txt"
  bin="$1/$asset"
}

# verify_signature FILE VERSION DIR checks FILE's signature (FILE.sigstore.json,
# fetched into DIR) with cosign, when cosign is installed.
verify_signature() {
  if ! command -v cosign >/dev/null 2>&1; then
    echo "cosign is not installed: checked $asset against checksums.txt only (add sigstore/cosign-installer before this step to verify checksums.txt's signature too)"
    return
  fi
  local base="$server/$repository/releases/download/$2"
  fetch "$base/checksums.txt.sigstore.json" "$3/checksums.txt.sigstore.json" ||
    die "could not download $base/checksums.txt.sigstore.json to verify checksums.txt's signature: retry the job"
  cosign verify-blob "$1" --bundle "$3/checksums.txt.sigstore.json" \
    --certificate-identity "https://github.com/$repository/.github/workflows/release.yml@refs/tags/$2" \
    --certificate-oidc-issuer "$signer_issuer" >&2 ||
    die "the signature of $base/checksums.txt is not the release workflow's: the release may have been tampered with; nothing was run"
  echo "checksums.txt is signed by the release workflow of $repository for $2 (cosign)"
}

# download VERSION DIR sets bin to the release's binary, verified and
# installed in the tool cache directory DIR.
download() {
  local base="$server/$repository/releases/download/$1" want got
  mkdir -p "$(dirname "$2")"
  # This job's own download directory, on the tool cache's file system,
  # so that the rename into place is atomic and jobs sharing the cache
  # never write the same file.
  tmp="$(mktemp -d "$(dirname "$2")/.download.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  echo "Downloading $asset $1 from $base"
  fetch "$base/checksums.txt" "$tmp/checksums.txt" ||
    die "could not download $base/checksums.txt: check that release $1 exists, or retry the job"
  verify_signature "$tmp/checksums.txt" "$1" "$tmp"
  want="$(listed "$tmp/checksums.txt" "$asset")"
  [ -n "$want" ] || die "$base/checksums.txt lists no $asset: release $1 has no binary for $os/$arch"
  fetch "$base/$asset" "$tmp/$asset" || die "could not download $base/$asset: retry the job"
  got="$(sha256 "$tmp/$asset")"
  [ "$got" = "$want" ] ||
    die "checksum mismatch for $base/$asset: got sha256 $got, checksums.txt says $want. The download was corrupted or tampered with; nothing was run. Retry the job"
  chmod +x "$tmp/$asset"
  mkdir -p "$2"
  mv -f "$tmp/checksums.txt" "$2/checksums.txt"
  mv -f "$tmp/$asset" "$2/$asset"
  : >"$2.complete"
  echo "$name $1 for $os/$arch verified against checksums.txt, cached in $2"
  bin="$2/$asset"
}

# build sets bin to a binary built from the action's checkout.
build() {
  command -v go >/dev/null 2>&1 ||
    die "the action's ref ${ref:-(a local path)} is not a release, and Go is not installed to build $name from it. Use a release (uses: buoy-deploy/buoy@v1), or install Go first (actions/setup-go)"
  local src out
  src="$(unix_path "$GITHUB_ACTION_PATH")"
  out="$(unix_path "${RUNNER_TEMP:-${TMPDIR:-/tmp}}")/buoy-action-build"
  mkdir -p "$out"
  echo "::notice title=buoy::${ref:-This local action} is not a release: building $name from source with $(go version). A release (uses: buoy-deploy/buoy@v1) starts in seconds"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$out/$name$ext" ./action) ||
    die "go build of $name in $src failed (output above)"
  bin="$out/$name$ext"
}

bin="" tmp="" os="" arch="" ext="" tool_arch=""
known_platform=true
platform || known_platform=false
version="$(release_version)"
if [ -n "$version" ] && $known_platform; then
  asset="${name}_${os}_${arch}${ext}"
  cache="$(unix_path "${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}}")"
  dir="$cache/$name/${version#v}/$tool_arch"
  cached "$dir" "$version" || download "$version" "$dir"
elif [ -n "$version" ]; then
  die "release $version has no $name for RUNNER_OS ${RUNNER_OS:-(unset)} and RUNNER_ARCH ${RUNNER_ARCH:-(unset)}: releases run on Linux, macOS and Windows runners, on X64 or ARM64. Run the job on one of those; nothing was run"
else
  [ -z "$ref" ] || echo "The action's ref $ref is no release tag (vX.Y.Z), and no release is tagged on its commit"
  build
fi
output bin "$bin"
output version "${version:-${ref:-local}}"
