# mcp-auth: the two commands that matter are `make demo` and `make test`.
#
# Each surface adds its own targets in mk/*.mk and appends its test target to TEST_TARGETS,
# so `make test` (what CI runs) covers everything.
CARGO ?= cargo
TEST_TARGETS :=

.PHONY: test demo fmt-check clippy doc unit bench

-include $(sort $(wildcard mk/*.mk))

## Everything CI runs, one part after another, each part's wall time printed as it ends and
## all of them again at the end (the whole run must stay well inside CI's limit).
TEST_PARTS = fmt-check clippy doc unit $(TEST_TARGETS)
test:
	@rm -f target/test-times.txt; mkdir -p target; \
	for part in $(TEST_PARTS); do \
		start=$$(date +%s); \
		$(MAKE) --no-print-directory $$part || { echo "make test: $$part FAILED"; exit 1; }; \
		echo "make test: $$part took $$(( $$(date +%s) - start )) s" | tee -a target/test-times.txt; \
	done; \
	echo "make test: every part passed; times:"; cat target/test-times.txt

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
