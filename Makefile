# The one test command is `make test` (README.md). It installs what it
# needs (moto into .venv/, the pinned linters through the Go module proxy)
# and fails loudly when something is missing; it never skips integration
# tests.

GO        ?= go
TOOL      := $(GO) tool -modfile=tools/go.mod
GOFILES    = $(shell git ls-files --cached --others --exclude-standard '*.go')

.PHONY: test check fmt-check vet lint unit integration fuzz

test: check integration fuzz

# Static checks: formatting, vet, golangci-lint (with depguard keeping CI
# libraries out of pkg/).
check: fmt-check vet lint

fmt-check:
	@out="$$(gofmt -l $(GOFILES))"; \
	if [ -n "$$out" ]; then echo "gofmt would change these files (run gofmt -w):"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	$(GO) vet -tags integration ./...

lint:
	$(TOOL) golangci-lint run --build-tags integration ./...

# Unit tests only (no emulator needed).
unit:
	$(GO) test -race ./...

# Everything, with the integration tests against a moto started for the run.
integration:
	scripts/with-moto $(GO) test -race -tags integration -count=1 ./...

# Every Fuzz* target in the repository, a few seconds each (scripts/fuzz
# finds them; FUZZTIME=1m make fuzz to hunt longer).
fuzz:
	GO=$(GO) FUZZTIME=$${FUZZTIME:-5s} scripts/fuzz
