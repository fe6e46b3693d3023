# The one test command is `make test` (README.md). It installs what it
# needs (moto into .venv/, the pinned linters through the Go module proxy)
# and fails loudly when something is missing; it never skips integration
# tests.

GO        ?= go
TOOL      := $(GO) tool -modfile=tools/go.mod
GOFILES    = $(shell git ls-files --cached --others --exclude-standard '*.go')

AGENT     := .tools/buildkite-agent
GORELEASER := .tools/goreleaser
SYFT      := .tools/syft

.PHONY: test check fmt-check vet lint lint-actions release-check unit integration test-hooks demo fuzz bench

test: check integration test-hooks fuzz release-check

# Static checks: formatting, vet, golangci-lint (with depguard keeping CI
# libraries out of pkg/).
check: fmt-check vet lint lint-actions

fmt-check:
	@out="$$(gofmt -l $(GOFILES))"; \
	if [ -n "$$out" ]; then echo "gofmt would change these files (run gofmt -w):"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	$(GO) vet -tags integration,release ./...

lint:
	$(TOOL) golangci-lint run --build-tags integration,release ./...

# actionlint (pinned in its own module, tools/actionlint/go.mod) over the
# example workflows and the release workflow, and over action/testdata/workflows in a throwaway
# project with action.yml at its root, so that `uses: ./` is checked
# against action.yml's inputs and outputs.
lint-actions:
	$(GO) build -modfile=tools/actionlint/go.mod -o .tools/actionlint github.com/rhysd/actionlint/cmd/actionlint
	.tools/actionlint -color=false examples/github/*.yml .github/workflows/*.yml
	@set -e; tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	mkdir -p "$$tmp/.git" "$$tmp/.github/workflows"; \
	cp action.yml "$$tmp/"; cp action/testdata/workflows/*.yml "$$tmp/.github/workflows/"; \
	echo "actionlint action/testdata/workflows (uses: ./ against action.yml)"; \
	cd "$$tmp" && "$(CURDIR)/.tools/actionlint" -color=false

# The release short of publishing it (internal/releasetest,
# TestSnapshotRelease): the pinned goreleaser checks .goreleaser.yaml and
# builds a snapshot release (no publishing, no signing: they need GitHub
# and its OIDC identity) with the pinned syft writing the SBOMs, then the
# test checks the assets against what action.yml, hooks/command and the
# docs download, the versions the binaries say, the SBOMs and the
# Homebrew cask. The first run builds goreleaser and syft (a few minutes
# each); the snapshot cross-compiles for every platform (about a minute).
release-check: $(GORELEASER) $(SYFT)
	$(GO) test -tags release -count=1 -timeout 20m -run TestSnapshotRelease ./internal/releasetest/

# goreleaser and syft, each pinned in its own module (tools/goreleaser,
# tools/syft); built only when missing or when that go.mod or go.sum
# changed.
$(GORELEASER): tools/goreleaser/go.mod tools/goreleaser/go.sum
	$(GO) build -modfile=tools/goreleaser/go.mod -o $@.tmp github.com/goreleaser/goreleaser/v2
	mv $@.tmp $@

$(SYFT): tools/syft/go.mod tools/syft/go.sum
	$(GO) build -modfile=tools/syft/go.mod -o $@.tmp github.com/anchore/syft/cmd/syft
	mv $@.tmp $@

# The real Buildkite agent, pinned in its own module
# (tools/buildkite-agent/go.mod), for the test that runs the plugin under
# `buildkite-agent bootstrap`. Built only when missing or when that
# go.mod or go.sum changed; the first build takes about 4 minutes.
$(AGENT): tools/buildkite-agent/go.mod tools/buildkite-agent/go.sum
	$(GO) build -modfile=tools/buildkite-agent/go.mod -o $@.tmp github.com/buildkite/agent/v3
	mv $@.tmp $@

# Unit tests only (no emulator needed).
unit:
	$(GO) test -race ./...

# Everything, with the integration tests against a moto started for the
# run; the plugin's tests under `buildkite-agent bootstrap` need the real
# agent.
integration: $(AGENT)
	scripts/with-moto $(GO) test -race -tags integration -count=1 ./...

# buoy end to end on a local AWS emulator: release-deploy to stage, promote
# to prod, status and history (README.md's first command).
demo:
	scripts/demo

# Every Fuzz* target in the repository, a few seconds each (scripts/fuzz
# finds them; FUZZTIME=1m make fuzz to hunt longer).
fuzz:
	GO=$(GO) FUZZTIME=$${FUZZTIME:-5s} scripts/fuzz

# The Buildkite plugin's hooks and the scripts releases run: shellcheck,
# then the bats tests (Debian's bats, bats-assert and bats-support and
# npm's bats-mock, installed by scripts/install-bats, which also writes
# the load.bash Buildkite's plugin tester provides). tests/binary/ needs
# Go; the plugin tester runs tests/ alone.
test-hooks:
	scripts/install-bats
	shellcheck hooks/* action/install.sh scripts/install-bats scripts/move-major-tag
	BATS_PLUGIN_PATH=$(CURDIR)/.tools/bats bats tests/ tests/binary/

# The performance benchmark (docs/performance.md): builds buoy, then on a
# moto started for the run deploys projects of 1, 10, 50 and 200 images
# (and one fanning out to 3 clusters), and legacy projects of 1, 10 and 50
# without and with 200 other services in the account, and prints wall
# time, AWS calls by operation against the lower bound, and peak memory. Not part of test:
# benchmarks are not tests. BENCH_FLAGS passes flags, e.g. -sizes 1,10.
bench:
	mkdir -p .bench
	$(GO) build -o .bench/buoy ./cmd/buoy
	$(GO) build -o .bench/bench ./internal/bench
	scripts/with-moto .bench/bench -buoy .bench/buoy $(BENCH_FLAGS)
