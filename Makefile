# The two commands a newcomer needs: `make demo` and `make test`.

GO          ?= go
# TESTFLAGS are extra go test flags: .ci/run sets -count=1 so that CI never reports cached
# results.
TESTFLAGS   ?=
# Packages with generated code that go generate ./... does not reach (testdata is
# invisible to ./...).
GENERATED   := ./... ./testdata/golden/...

.PHONY: all generate test test-remote bench bench-remote check demo demo-remote

all: check test

## generate: regenerate every cachegen file in the repository.
generate:
	$(GO) run ./cmd/cachegen $(GENERATED)
	cd examples/esbuild && $(GO) tool cachegen ./...

## test: the allocation tests without the race detector (it makes sync.Pool drop items on
## purpose, which they would count), then every test with it, and the tests of
## examples/esbuild, a module of its own (so that this one does not depend on esbuild).
test:
	$(GO) test -count=1 -run 'Allocs' ./runtime/keyhash ./runtime/cache
	$(GO) test -race $(TESTFLAGS) ./...
	cd examples/esbuild && $(GO) test -race $(TESTFLAGS) ./...

## test-remote: the tests of the remote tiers against real servers: scripts/remote-servers
## starts nginx (WebDAV), redis-server and versitygw on loopback ports (installing what is
## missing), the tests run with the environment it writes, and the servers are stopped
## afterwards, whether the tests passed or not. Without those servers the tests that need
## them skip (or fail, under CI=true).
test-remote:
	@dir=$$(mktemp -d) && trap 'scripts/remote-servers stop "$$dir"' EXIT INT TERM && \
		scripts/remote-servers start "$$dir" && . "$$dir/env" && \
		$(GO) test -race -count=1 $(TESTFLAGS) ./runtime/cache/...

## bench: the benchmarks recorded in BENCHMARKS.md.
bench:
	$(GO) test -p 1 -run '^$$' -bench . -benchmem ./...

## bench-remote: the remote tier's benchmarks (BenchmarkRemote* in runtime/cache and its
## engines, recorded in BENCHMARKS.md, The remote tier) against the servers of
## scripts/remote-servers, started and stopped as for test-remote. make bench runs them too
## when the servers' variables are set, and skips them otherwise.
BENCHCOUNT ?= 3
bench-remote:
	@dir=$$(mktemp -d) && trap 'scripts/remote-servers stop "$$dir"' EXIT INT TERM && \
		scripts/remote-servers start "$$dir" && . "$$dir/env" && \
		$(GO) test -p 1 -run '^$$' -bench '^BenchmarkRemote' -benchmem -count $(BENCHCOUNT) ./runtime/cache/...

## check: formatting, vet, staticcheck (a tool of this module, pinned in go.mod), generated
## files up to date, and cachegen-vet (every compute passed to cache.Load reads only its
## key, run as go vet's tool so that go vet caches its work), here and in examples/esbuild.
check:
	@out=$$(gofmt -l .) || exit 1; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./... ./testdata/golden/...
	$(GO) tool staticcheck ./...
	$(GO) run ./cmd/cachegen -check $(GENERATED)
	$(GO) vet -vettool=$$($(GO) tool -n cachegen-vet) $(GENERATED)
	cd examples/esbuild && $(GO) vet ./... && $(GO) tool cachegen -check ./... && \
		$(GO) vet -vettool=$$($(GO) tool -n cachegen-vet) ./...

## demo: the whole loop on the local disk cache, in separate processes: examples/minicompiler
## compiles its embedded sample at -O2 (a miss), again in a second process (a hit), then with
## one option changed (a miss each time, explained by CACHEGEN_EXPLAIN=1: the field that
## changed). Only the last lines of each run are shown.
DEMO_DIR ?= .cache/demo
demo:
	@$(GO) build -o bin/minicompiler ./examples/minicompiler
	@rm -rf $(DEMO_DIR)
	@echo "# 1st process, empty cache: compile the sample at -O2"
	@CACHEGEN_EXPLAIN=1 ./bin/minicompiler -cache-dir $(DEMO_DIR) -O2 | tail -n 2
	@echo "# 2nd process, same options: load what the 1st stored"
	@CACHEGEN_EXPLAIN=1 ./bin/minicompiler -cache-dir $(DEMO_DIR) -O2 | tail -n 2
	@echo "# 3rd process, -O1 instead of -O2: another key"
	@CACHEGEN_EXPLAIN=1 ./bin/minicompiler -cache-dir $(DEMO_DIR) -O1 | tail -n 2
	@echo "# 4th process, -target vm32: another key, and another result"
	@CACHEGEN_EXPLAIN=1 ./bin/minicompiler -cache-dir $(DEMO_DIR) -O2 -target vm32 | tail -n 2
	@echo "# cachegen cache stats -dir $(DEMO_DIR)"
	@$(GO) run ./cmd/cachegen cache stats -dir $(DEMO_DIR)

## demo-remote: two cache directories standing for two machines, sharing one remote:
## scripts/remote-servers starts the remote's server on a loopback port (nginx's WebDAV for
## REMOTE=http, the default; redis-server for REMOTE=redis; installed on first use), and
## examples/minicompiler compiles its sample at -O2 with CACHEGEN_REMOTE and a random
## CACHEGEN_REMOTE_SECRET set: in directory a (a miss: it compiles, and uploads before it
## exits), in directory b (a remote hit, stored in b), and in b again (a local hit). Each
## process's cache line is shown; the demo fails if a tier other than the expected one
## answers. The server is stopped at the end, whether the demo passed or not.
REMOTE          ?= http
DEMO_REMOTE_DIR ?= .cache/demo-remote
demo-remote:
	@$(GO) build -o bin/minicompiler ./examples/minicompiler
	@rm -rf $(DEMO_REMOTE_DIR)
	@servers=$$(mktemp -d) && trap 'scripts/remote-servers stop "$$servers"' EXIT INT TERM && \
	case "$(REMOTE)" in \
	http) var=CACHEGEN_TEST_HTTP ;; redis) var=CACHEGEN_TEST_REDIS ;; \
	*) echo "REMOTE=$(REMOTE): http or redis"; exit 2 ;; \
	esac && \
	scripts/remote-servers start "$$servers" $(REMOTE) && . "$$servers/env" && \
	unset CACHEGEN_REMOTE_READONLY CACHEGEN_REMOTE_TOKEN CACHEGEN_REMOTE_ED25519_PRIVATE \
		CACHEGEN_REMOTE_ED25519_PUBLIC && \
	eval "CACHEGEN_REMOTE=\$$$$var" && export CACHEGEN_REMOTE && \
	CACHEGEN_REMOTE_SECRET=demo:$$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n') && \
	export CACHEGEN_REMOTE_SECRET && \
	compile() { \
		./bin/minicompiler -cache-dir "$(DEMO_REMOTE_DIR)/$$1" -O2 >/dev/null 2>"$$servers/log"; \
		rc=$$?; cat "$$servers/log"; [ $$rc -eq 0 ] && grep -q "$$2" "$$servers/log" || \
			{ echo "demo-remote: expected \"$$2\""; return 1; }; \
	} && \
	echo "# CACHEGEN_REMOTE=$$CACHEGEN_REMOTE CACHEGEN_REMOTE_SECRET=demo:<random>" && \
	echo "# 1st process, machine a, empty cache: compiles, then uploads before it exits" && \
	compile a "cache MISS" && \
	echo "# 2nd process, machine b, empty cache: loads what a uploaded, and stores it in b" && \
	compile b "cache HIT (remote)" && \
	echo "# 3rd process, machine b again: a local hit, the remote is not asked" && \
	compile b "cache HIT (disk)"
