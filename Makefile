# The two commands a newcomer needs: `make demo` and `make test`.

GO          ?= go
STATICCHECK ?= staticcheck
# Packages with generated code that go generate ./... does not reach (testdata is
# invisible to ./...).
GENERATED   := ./... ./testdata/golden/...

.PHONY: all generate test bench check demo

all: check test

## generate: regenerate every cachegen file in the repository.
generate:
	$(GO) run ./cmd/cachegen $(GENERATED)

## test: every test with the race detector, then the allocation tests without it (the race
## detector makes sync.Pool drop items on purpose, which they would count).
test:
	$(GO) test -race ./...
	$(GO) test -count=1 -run 'Allocs' ./...

## bench: the benchmarks recorded in BENCHMARKS.md.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## check: formatting, vet, staticcheck, and generated files up to date.
check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./... ./testdata/golden/...
	$(STATICCHECK) ./...
	$(GO) run ./cmd/cachegen -check $(GENERATED)

## demo: the whole loop on the local disk cache, in separate processes: a miss, a hit, and a
## miss again when an option changes.
DEMO_DIR ?= .cache/demo
demo:
	@$(GO) build -o bin/quickstart ./examples/quickstart
	@rm -rf $(DEMO_DIR)
	@echo "# 1st process, empty cache:"
	@./bin/quickstart -dir $(DEMO_DIR)
	@echo "# 2nd process, same query:"
	@./bin/quickstart -dir $(DEMO_DIR)
	@echo "# 3rd process, one option changed (-method sieve):"
	@./bin/quickstart -dir $(DEMO_DIR) -method sieve
	@echo "# cachegen cache stats -dir $(DEMO_DIR):"
	@$(GO) run ./cmd/cachegen cache stats -dir $(DEMO_DIR)
