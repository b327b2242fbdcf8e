# The official MCP conformance suite's authorization scenarios, against each client built on
# the library. `make conformance` installs both pinned harnesses (npm ci), builds the clients,
# runs everything (conformance/run.py) and prints one closing line over all scenarios.
# A client is a name in CONFORMANCE_CLIENTS, its command CONFORMANCE_CMD_<name> (the suite
# appends the server URL), and a `conformance-clients::` rule that builds it. The issue's two
# clients are c (the C ABI) and python (the package); rust is the core's own example.
CONFORMANCE_CLIENTS ?= c python rust
CONFORMANCE_CMD_rust = exec $(CURDIR)/target/debug/examples/conformance_client
# The venv of mk/python.mk, with the package built into it by python-develop.
CONFORMANCE_CMD_python = exec $(PY_BIN)/python $(CURDIR)/examples/python/conformance_client.py
# examples/c/conformance_client.c, statically linked against the debug libmcpauth.a.
CONFORMANCE_CMD_c = exec $(CURDIR)/target/c-examples/debug/conformance_client

.PHONY: conformance conformance-deps conformance-clients test-conformance-runner
TEST_TARGETS += test-conformance-runner conformance

## The verdicts of conformance/run.py and report.py on canned harness output (a dead run, a
## missing summary, a wrong scenario count must fail); no harness needed.
test-conformance-runner:
	python3 -m unittest conformance/test_run.py

conformance-deps:
	cd conformance/v0.1.16 && npm ci --no-audit --no-fund --loglevel=error
	cd conformance/v0.2.0-alpha.12 && npm ci --no-audit --no-fund --loglevel=error

conformance-clients::
	$(CARGO) build -q -p mcp-auth --example conformance_client

conformance-clients:: python-develop

conformance-clients::
	$(CARGO) build -q -p mcp-auth-ffi
	@$(MAKE) -s -C examples/c OUT=$(CURDIR)/target/c-examples/debug LIBDIR=$(CURDIR)/target/debug \
		EXAMPLES=conformance_client

conformance: conformance-deps conformance-clients
	@status=0; \
	$(foreach c,$(CONFORMANCE_CLIENTS),python3 conformance/run.py $(c) "$(CONFORMANCE_CMD_$(c))" || status=1;) \
	python3 conformance/report.py $(if $(CI),,--readme docs/conformance.md) $(CONFORMANCE_CLIENTS) || status=1; \
	exit $$status
