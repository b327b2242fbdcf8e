# Documentation: every snippet of README.md, docs/*.md and bindings/python/README.md runs
# (docs/snippets/run.py; docs/README.md, section "Snippets", says how each kind of block runs).
#
#   make test-docs   build what the snippets need (the Python venv with the package, libmcpauth,
#                    the demo server, the Node package's dependencies), then run every snippet:
#                    `docs: N passed, M failed`

.PHONY: test-docs

test-docs: python-develop ffi-build node-deps
	MCP_AUTH_DEMO_SERVER=$(CURDIR)/target/debug/mcp-auth-demo-server MCPAUTH_LIB_DIR=$(CURDIR)/target/debug \
		DOCS_PYTHON=$(PY_BIN)/python $(PYTHON) docs/snippets/run.py

TEST_TARGETS += test-docs
