# The Node.js package (bindings/node, npm name `mcp-auth-client`) over libmcpauth with koffi.
#
#   make test-node     npm ci, tsc on the typings, node --test against the demo server
#                      (bindings/node/test-server: the demo server with a control channel)
#   make bench-node    what a call through Node adds over C (bench/node), release build
#
# The npm cache lives in target/npm-cache, so repeated runs need no network; the first needs the
# npm registry only. The example (examples/node/demo.mjs) runs in `make test-ffi-node` (mk/ffi.mk).

NODE_DIR := bindings/node
NODE_NPM = npm ci --no-audit --no-fund --loglevel=error --cache $(CURDIR)/target/npm-cache
NODE_LIB_DIR = $(CURDIR)/target/debug
NODE_BENCH_DIR = $(CURDIR)/target/release
NODE_BENCH_N ?= 200000

.PHONY: node-deps node-example-deps test-node bench-node

TEST_TARGETS += test-node

$(NODE_DIR)/node_modules/.package-lock.json: $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && $(NODE_NPM)

node-deps: $(NODE_DIR)/node_modules/.package-lock.json

node-example-deps: node-deps
	cd examples/node && $(NODE_NPM)

test-node: node-deps
	$(CARGO) build -p mcp-auth-ffi -p mcp-auth-node-test-server
	cd $(NODE_DIR) && MCPAUTH_LIB=$(NODE_LIB_DIR)/libmcpauth.so \
		MCPAUTH_NODE_TEST_SERVER=$(NODE_LIB_DIR)/mcp-auth-node-test-server npm test

bench-node: node-deps
	$(CARGO) build --release -q -p mcp-auth-ffi
	mkdir -p target/bench-node
	# The same shared library for C and Node; its SONAME (libmcpauth.so.ABI) is linked here.
	ln -sf $(NODE_BENCH_DIR)/libmcpauth.so target/bench-node/libmcpauth.so.$(FFI_ABI)
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -Iinclude -o target/bench-node/bench bench/node/bench.c \
		-L$(NODE_BENCH_DIR) -lmcpauth -Wl,-rpath,$(CURDIR)/target/bench-node
	MCPAUTH_LIB=$(NODE_BENCH_DIR)/libmcpauth.so node bench/node/bench.mjs target/bench-node/bench $(NODE_BENCH_N)

# The conformance suite (mk/conformance.mk) also runs the Node client:
# examples/node/conformance_client.mjs through the package, on the debug libmcpauth.
CONFORMANCE_CLIENTS += node
CONFORMANCE_CMD_node = MCPAUTH_LIB=$(CURDIR)/target/debug/libmcpauth.so exec node $(CURDIR)/examples/node/conformance_client.mjs

conformance-clients:: node-example-deps
