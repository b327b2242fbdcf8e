# The browser proof of the WWW-Authenticate bridge (the mcp-auth-bridge crate, examples/proxy):
# headless Chromium loads a page on one loopback origin whose script fetch()es through the
# example proxy to the demo MCP server and reports status and WWW-Authenticate back, then runs a
# browser-based client's whole authorization (discovery, registration, authorization in an
# iframe, token request, MCP call) against a demo server with CORS on (docs/demo-server.md).
# `cargo test --workspace` skips that test; this target installs Debian's chromium when it is
# missing and runs it for real.
.PHONY: test-browser browser-deps

browser-deps:
	@if [ -n "$$MCP_AUTH_CHROMIUM" ] || command -v chromium >/dev/null 2>&1 \
	    || command -v chromium-browser >/dev/null 2>&1; then :; else \
	  echo "browser-deps: installing chromium (Debian package)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq \
	    && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null \
	    && command -v chromium >/dev/null 2>&1 \
	    || { echo "browser-deps: could not install chromium" >&2; exit 1; }; \
	fi

## Only the browser test (also part of `make test`).
test-browser: browser-deps
	MCP_AUTH_BROWSER_TEST=1 $(CARGO) test -p mcp-auth-proxy --test browser -- --nocapture

TEST_TARGETS += test-browser
