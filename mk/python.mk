# The Python package (bindings/python): a venv with the dev tools, the extension built into it
# with maturin, then pytest (vectors, differential vs mcp==2.3.0, end to end with the real
# `mcp` SDK and the CLI against the loopback demo server) and mypy.stubtest.

PYTHON ?= python3
PY_DIR := bindings/python
PY_VENV := $(PY_DIR)/.venv
PY_BIN := $(CURDIR)/$(PY_VENV)/bin
PY_STAMP := $(PY_VENV)/.installed

.PHONY: python-venv python-develop python-wheel python-stubtest test-python

$(PY_STAMP): $(PY_DIR)/requirements-dev.txt
	$(PYTHON) -m venv $(PY_VENV)
	$(PY_BIN)/python -m pip install -q pip==26.3
	$(PY_BIN)/python -m pip install -q -r $(PY_DIR)/requirements-dev.txt
	touch $@

python-venv: $(PY_STAMP)

## Build the extension (debug, sharing target/ with cargo) into the venv, editable.
python-develop: $(PY_STAMP)
	@# The distribution was called mcp-auth before it became mcp-auth-client: drop a stale copy.
	@$(PY_BIN)/python -m pip uninstall -q -y mcp-auth 2>/dev/null || true
	cd $(PY_DIR) && VIRTUAL_ENV=$(CURDIR)/$(PY_VENV) $(PY_BIN)/maturin develop -q

## The release wheel, in target/wheels.
python-wheel: $(PY_STAMP)
	cd $(PY_DIR) && $(PY_BIN)/maturin build --release -q

python-stubtest: python-develop
	cd $(PY_DIR) && $(PY_BIN)/python -m mypy.stubtest mcp_auth._native --allowlist stubtest-allowlist.txt
	cd $(PY_DIR) && $(PY_BIN)/python -m mypy --no-incremental python/mcp_auth
	$(PY_BIN)/python -m mypy --no-incremental examples/python/conformance_client.py

test-python: python-develop
	$(CARGO) build -q -p mcp-auth-demo-server -p mcp-auth-tls-front
	cd $(PY_DIR) && MCP_AUTH_DEMO_SERVER=$(CURDIR)/target/debug/mcp-auth-demo-server \
		MCP_AUTH_TLS_FRONT=$(CURDIR)/target/debug/mcp-auth-tls-front \
		$(PY_BIN)/python -m pytest -q
	$(MAKE) --no-print-directory python-stubtest

TEST_TARGETS += test-python
