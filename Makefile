# mcp-auth: the two commands that matter are `make demo` and `make test`.
#
# Each surface adds its own targets in mk/*.mk and appends its test target to TEST_TARGETS,
# so `make test` (what CI runs) covers everything.
CARGO ?= cargo
TEST_TARGETS :=

.PHONY: test demo fmt-check clippy doc unit bench

-include $(sort $(wildcard mk/*.mk))

## Everything CI runs.
test: fmt-check clippy doc unit $(TEST_TARGETS)

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps

unit:
	$(CARGO) test --workspace

## The main job: the whole flow from C (examples/c/demo.c, through libmcpauth) on the loopback
## demo server. The same flow in Rust: `cargo run -q -p mcp-auth --example demo`.
demo: demo-c

## Benchmarks (never part of `make test`): mk/bench.mk.
