# The interop suite (interop/run.py, docs/interop.md): mcp-auth against real third-party servers
# on loopback, from the package registries, pinned: node `oidc-provider` (authorization server),
# the official MCP Python SDK (resource server), the official TypeScript SDK's example server
# with its demo authorization server, Python `authlib` (a second authorization server family).
# Installs what it needs by itself: npm ci (cache in target/npm-cache), a venv in
# target/interop/venv, the Python package (python-develop, for the CLI and the SDK columns,
# which run in its venv with the pinned `mcp`), the C column's host (interop/client-c, static
# against libmcpauth.a), the Node column's package (node-deps). Prints its own wall time.
#
#   make interop      every cell; the table goes to docs/interop.md outside CI

INTEROP_DIR := interop
INTEROP_VENV := target/interop/venv
INTEROP_NPM = npm ci --no-audit --no-fund --loglevel=error --cache $(CURDIR)/target/npm-cache

.PHONY: interop interop-deps

TEST_TARGETS += interop

$(INTEROP_DIR)/node_modules/.package-lock.json: $(INTEROP_DIR)/package-lock.json
	cd $(INTEROP_DIR) && $(INTEROP_NPM)

$(INTEROP_VENV)/.installed: $(INTEROP_DIR)/requirements.txt
	python3 -m venv $(INTEROP_VENV)
	$(INTEROP_VENV)/bin/python -m pip install -q -r $(INTEROP_DIR)/requirements.txt
	touch $@

interop-deps: $(INTEROP_DIR)/node_modules/.package-lock.json $(INTEROP_VENV)/.installed

interop: interop-deps python-develop node-deps
	$(CARGO) build -q -p mcp-auth-interop-client -p mcp-auth-ffi
	@$(MAKE) -s -C examples/c SRCDIR=$(CURDIR)/$(INTEROP_DIR)/client-c EXAMPLES=client \
		OUT=$(CURDIR)/target/interop/client-c LIBDIR=$(CURDIR)/target/debug
	python3 $(INTEROP_DIR)/run.py $(if $(CI),,--doc docs/interop.md)
