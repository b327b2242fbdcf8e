# mcp-auth: the two commands that matter are `make demo` and `make test`.
CARGO ?= cargo

.PHONY: test demo lint fmt-check clippy doc unit bench

## Everything CI runs.
test: fmt-check clippy doc unit

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps

unit:
	$(CARGO) test --workspace

## The main job: the whole flow on the embedded loopback demo server.
demo:
	$(CARGO) run --quiet -p mcp-auth --example demo

## Benchmarks (never part of `make test`).
bench:
	$(CARGO) bench -p mcp-auth
