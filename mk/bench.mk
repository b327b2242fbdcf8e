# Benchmarks (never part of `make test`): criterion on the core, the Python reference (pip `mcp`
# 2.3.0) and the Python binding per call, the loopback flows of every client (the raw-socket
# floor, Rust, C ABI, Python binding, reference) against one demo server (pinned to CPU 0 and
# unpinned), 1/8/64/256 threads sharing one client, warm paths, per-process peak RSS and
# footprint, and a call through Node against the same call from C. See BENCHMARKS.md.
#
#   make bench                     everything (ROUNDS=5 interleaved rounds), tables in target/bench/tables.md
#   make bench QUICK=1             a smoke run
#   make bench-criterion           criterion only (cargo bench -p mcp-auth)
#   make bench-stores              memory/file/Redis stores only (tables in target/bench/stores.md)

BENCH_VENV := $(CURDIR)/target/bench-venv
BENCH_PY := $(BENCH_VENV)/bin/python
BENCH_STAMP := $(BENCH_VENV)/.installed

.PHONY: bench bench-criterion bench-venv bench-build bench-stores

$(BENCH_STAMP):
	python3 -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install -q --upgrade pip
	$(BENCH_PY) -m pip install -q mcp==2.3.0 'maturin>=1.9.4,<2'
	touch $@

bench-venv: $(BENCH_STAMP)

## Release builds: bench-flow (+ the demo server it embeds), libmcpauth, and the binding wheel
## installed into the bench venv.
bench-build: $(BENCH_STAMP)
	$(CARGO) build --release -q -p mcp-auth-bench-flow -p mcp-auth-ffi
	rm -f target/wheels/mcp_auth-*.whl target/wheels/mcp_auth_client-*.whl
	cd bindings/python && $(BENCH_VENV)/bin/maturin build --release -q
	$(BENCH_PY) -m pip install -q --force-reinstall --no-deps target/wheels/mcp_auth_client-*.whl

bench: bench-build redis-server
	command -v taskset >/dev/null || { apt-get update -qq && apt-get install -y -qq util-linux; }
	PY=$(BENCH_PY) QUICK=$(QUICK) python3 bench/run.py
	# What a call through Node adds over the same call from C (mk/node.mk).
	$(MAKE) --no-print-directory bench-node | tee target/bench/node.md

bench-criterion:
	$(CARGO) bench -p mcp-auth

## The credential stores alone: memory, file and Redis (a throwaway redis-server on a free
## loopback port): authorized-request throughput and refresh latency under contention.
bench-stores: redis-server
	$(CARGO) build --release -q -p mcp-auth-bench-flow
	QUICK=$(QUICK) python3 bench/run.py stores
