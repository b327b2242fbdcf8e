# The C ABI (ffi/): libmcpauth, include/mcpauth.h, the C examples and the other runtimes.
#
#   make demo             the whole flow from C (examples/c/demo.c) on the loopback demo server
#   make header           regenerate include/mcpauth.h (cbindgen, pinned) after changing ffi/src
#   make install PREFIX=… libmcpauth.{a,so}, mcpauth.h and mcpauth.pc (release build)
#   make test-ffi         valgrind, ASan/UBSan and TSan runs of the C programs, Python ctypes, the
#                         Node example (mcp-auth-client package) and an install + pkg-config build
#                         (part of `make test`; the plain C runs, the bad-input and header tests are
#                         in `cargo test`)

FFI_PROFILE ?= debug
FFI_CARGO_PROFILE = $(if $(filter debug,$(FFI_PROFILE)),,--profile $(if $(filter release,$(FFI_PROFILE)),release,$(FFI_PROFILE)))
FFI_DIR = $(CURDIR)/target/$(FFI_PROFILE)
FFI_C_OUT = $(CURDIR)/target/c-examples/$(FFI_PROFILE)
FFI_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
FFI_ABI := $(shell sed -n 's/^pub const MCPAUTH_ABI_VERSION: u32 = \([0-9]*\);/\1/p' ffi/src/lib.rs)
WITH_DEMO_SERVER = ffi/scripts/with-demo-server.sh --server $(FFI_DIR)/mcp-auth-demo-server --

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

.PHONY: ffi-build ffi-examples demo-c header install test-ffi test-ffi-valgrind test-ffi-asan \
	test-ffi-tsan test-ffi-python test-ffi-node test-ffi-install

TEST_TARGETS += test-ffi

ffi-build:
	$(CARGO) build $(FFI_CARGO_PROFILE) -p mcp-auth-ffi -p mcp-auth-demo-server

ffi-examples: ffi-build
	@$(MAKE) -s -C examples/c OUT=$(FFI_C_OUT) LIBDIR=$(FFI_DIR)

demo-c: ffi-examples
	@$(WITH_DEMO_SERVER) $(FFI_C_OUT)/demo {url}

header:
	UPDATE_HEADER=1 $(CARGO) test -p mcp-auth-ffi --test header

install: FFI_PROFILE = release
install: ffi-build
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 $(FFI_DIR)/libmcpauth.a $(DESTDIR)$(LIBDIR)/libmcpauth.a
	install -m 755 $(FFI_DIR)/libmcpauth.so $(DESTDIR)$(LIBDIR)/libmcpauth.so.$(FFI_VERSION)
	ln -sf libmcpauth.so.$(FFI_VERSION) $(DESTDIR)$(LIBDIR)/libmcpauth.so.$(FFI_ABI)
	ln -sf libmcpauth.so.$(FFI_ABI) $(DESTDIR)$(LIBDIR)/libmcpauth.so
	install -m 644 include/mcpauth.h $(DESTDIR)$(INCLUDEDIR)/mcpauth.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
		-e 's|@VERSION@|$(FFI_VERSION)|' ffi/mcpauth.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/mcpauth.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/mcpauth.pc

test-ffi: test-ffi-valgrind test-ffi-asan test-ffi-tsan test-ffi-python test-ffi-node test-ffi-install

test-ffi-valgrind: ffi-build
	@command -v valgrind >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq valgrind; }
	MCPAUTH_TEST_MODE=valgrind MCPAUTH_LIB_DIR=$(FFI_DIR) $(CARGO) test -p mcp-auth-ffi --test c_examples

test-ffi-asan: ffi-build
	MCPAUTH_TEST_MODE=asan MCPAUTH_LIB_DIR=$(FFI_DIR) $(CARGO) test -p mcp-auth-ffi --test c_examples

# The C programs built with -fsanitize=thread (libmcpauth.a itself is not instrumented: that
# needs a nightly toolchain with rust-src); ffi/tests/tsan.supp says what is suppressed and why.
test-ffi-tsan: ffi-build
	MCPAUTH_TEST_MODE=tsan MCPAUTH_LIB_DIR=$(FFI_DIR) $(CARGO) test -p mcp-auth-ffi --test c_examples

test-ffi-python: ffi-build
	MCPAUTH_LIB=$(FFI_DIR)/libmcpauth.so $(WITH_DEMO_SERVER) python3 examples/python-ctypes/demo.py {url}

# The Node example through the mcp-auth-client package (bindings/node, mk/node.mk).
test-ffi-node: ffi-build node-example-deps
	MCPAUTH_LIB=$(FFI_DIR)/libmcpauth.so $(WITH_DEMO_SERVER) node examples/node/demo.mjs {url}

# Install into a scratch prefix (debug build, to reuse the test build), then build quickstart.c
# against it with pkg-config, dynamically, and run it.
FFI_INSTALL_TEST := $(CURDIR)/target/install-test
test-ffi-install: ffi-build
	@command -v pkg-config >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq pkg-config; }
	rm -rf $(FFI_INSTALL_TEST)
	$(MAKE) -s install FFI_PROFILE=$(FFI_PROFILE) PREFIX=$(FFI_INSTALL_TEST)/usr DESTDIR=
	test -f $(FFI_INSTALL_TEST)/usr/include/mcpauth.h
	test -f $(FFI_INSTALL_TEST)/usr/lib/libmcpauth.a
	test -L $(FFI_INSTALL_TEST)/usr/lib/libmcpauth.so
	readelf -d $(FFI_INSTALL_TEST)/usr/lib/libmcpauth.so.$(FFI_VERSION) | grep -q 'SONAME.*libmcpauth.so.$(FFI_ABI)'
	PKG_CONFIG_PATH=$(FFI_INSTALL_TEST)/usr/lib/pkgconfig pkg-config --modversion mcpauth | grep -qx '$(FFI_VERSION)'
	$(CC) -std=c11 -Wall -Wextra -Wpedantic -Werror -o $(FFI_INSTALL_TEST)/quickstart examples/c/quickstart.c \
		$$(PKG_CONFIG_PATH=$(FFI_INSTALL_TEST)/usr/lib/pkgconfig pkg-config --cflags --libs mcpauth) \
		-Wl,-rpath,$(FFI_INSTALL_TEST)/usr/lib
	$(FFI_INSTALL_TEST)/quickstart | tail -1 | grep -qx 'quickstart: ok'
	@echo "install: ok (dynamic link through pkg-config, SONAME libmcpauth.so.$(FFI_ABI))"
