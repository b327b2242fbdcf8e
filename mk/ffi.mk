# The C ABI (ffi/): libmcpauth, include/mcpauth.h, the C examples and the other runtimes.
#
#   make demo             the whole flow from C (examples/c/demo.c) on the loopback demo server
#   make header           regenerate include/mcpauth.h (cbindgen, pinned) after changing ffi/src
#   make ffi-build        libmcpauth.{a,so} in target/<profile>/, plus the SONAME link
#                         libmcpauth.so.<ABI> -> libmcpauth.so that programs linked there need
#   make install PREFIX=… libmcpauth.{a,so} (stripped), mcpauth.h, mcpauth.hpp, mcpauth.pc and
#                         the CMake package (lib/cmake/mcpauth/) (release build; docs/c-cpp.md)
#   make test-ffi         valgrind, ASan/UBSan and TSan runs of the C and C++ programs, Python
#                         ctypes, the Node example (mcp-auth-client package), a dynamic link
#                         against the build directory and an install + pkg-config + CMake build
#                         (part of `make test`; the plain C runs, the bad-input and header tests
#                         are in `cargo test`)

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
CMAKEDIR ?= $(LIBDIR)/cmake/mcpauth
# `make install INSTALL_STRIP=0` keeps the symbols (and the debug info of a debug build).
INSTALL_STRIP ?= 1
STRIP ?= strip

.PHONY: ffi-build ffi-examples demo-c header install test-ffi test-ffi-valgrind test-ffi-asan \
	test-ffi-tsan test-ffi-python test-ffi-node test-ffi-install test-ffi-build-dir

TEST_TARGETS += test-ffi

# The shared library's SONAME is libmcpauth.so.<ABI> (ffi/build.rs): a program linked with
# `-L target/<profile> -lmcpauth` asks the dynamic linker for that name, which cargo does not
# create. A relative link, so it survives moving the target directory. (Not made by build.rs:
# a build script may only write to its OUT_DIR, and the final artifact directory is not known
# to it.)
ffi-build:
	$(CARGO) build $(FFI_CARGO_PROFILE) -p mcp-auth-ffi -p mcp-auth-demo-server
	ln -sfn libmcpauth.so $(FFI_DIR)/libmcpauth.so.$(FFI_ABI)

ffi-examples: ffi-build
	@$(MAKE) -s -C examples/c OUT=$(FFI_C_OUT) LIBDIR=$(FFI_DIR)

demo-c: ffi-examples
	@$(WITH_DEMO_SERVER) $(FFI_C_OUT)/demo {url}

header:
	UPDATE_HEADER=1 $(CARGO) test -p mcp-auth-ffi --test header

install: FFI_PROFILE = release
install: ffi-build
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(CMAKEDIR)
	install -m 644 $(FFI_DIR)/libmcpauth.a $(DESTDIR)$(LIBDIR)/libmcpauth.a
	install -m 755 $(FFI_DIR)/libmcpauth.so $(DESTDIR)$(LIBDIR)/libmcpauth.so.$(FFI_VERSION)
ifeq ($(INSTALL_STRIP),1)
	$(STRIP) --strip-unneeded $(DESTDIR)$(LIBDIR)/libmcpauth.so.$(FFI_VERSION)
	$(STRIP) --strip-debug $(DESTDIR)$(LIBDIR)/libmcpauth.a
endif
	ln -sf libmcpauth.so.$(FFI_VERSION) $(DESTDIR)$(LIBDIR)/libmcpauth.so.$(FFI_ABI)
	ln -sf libmcpauth.so.$(FFI_ABI) $(DESTDIR)$(LIBDIR)/libmcpauth.so
	install -m 644 include/mcpauth.h include/mcpauth.hpp $(DESTDIR)$(INCLUDEDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
		-e 's|@VERSION@|$(FFI_VERSION)|' -e 's|@ABI@|$(FFI_ABI)|' \
		ffi/mcpauth.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/mcpauth.pc
	sed -e 's|@CONFIG_TO_PREFIX@|$(shell realpath -m --relative-to=$(CMAKEDIR) $(PREFIX))|' \
		-e 's|@LIBDIR_REL@|$(shell realpath -m --relative-to=$(PREFIX) $(LIBDIR))|' \
		-e 's|@INCLUDEDIR_REL@|$(shell realpath -m --relative-to=$(PREFIX) $(INCLUDEDIR))|' \
		-e 's|@VERSION@|$(FFI_VERSION)|g' -e 's|@ABI@|$(FFI_ABI)|g' \
		cmake/mcpauthConfig.cmake.in > $(DESTDIR)$(CMAKEDIR)/mcpauthConfig.cmake
	sed -e 's|@VERSION@|$(FFI_VERSION)|g' -e 's|@VERSION_MAJOR@|$(word 1,$(subst ., ,$(FFI_VERSION)))|g' \
		-e 's|@VERSION_MINOR@|$(word 2,$(subst ., ,$(FFI_VERSION)))|g' \
		-e 's|@SIZEOF_VOID_P@|$(shell getconf LONG_BIT | sed "s/64/8/;s/32/4/")|g' \
		cmake/mcpauthConfigVersion.cmake.in > $(DESTDIR)$(CMAKEDIR)/mcpauthConfigVersion.cmake
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/mcpauth.pc $(DESTDIR)$(CMAKEDIR)/*.cmake

test-ffi: test-ffi-valgrind test-ffi-asan test-ffi-tsan test-ffi-python test-ffi-node \
	test-ffi-build-dir test-ffi-install

test-ffi-valgrind: ffi-build
	@command -v valgrind >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq valgrind; }
	MCPAUTH_TEST_MODE=valgrind MCPAUTH_LIB_DIR=$(FFI_DIR) $(CARGO) test -p mcp-auth-ffi --test c_examples --test c_fleet --test c_stream

test-ffi-asan: ffi-build
	MCPAUTH_TEST_MODE=asan MCPAUTH_LIB_DIR=$(FFI_DIR) $(CARGO) test -p mcp-auth-ffi --test c_examples --test c_fleet --test c_stream

# The C programs built with -fsanitize=thread (libmcpauth.a itself is not instrumented: that
# needs a nightly toolchain with rust-src); ffi/tests/tsan.supp says what is suppressed and why.
test-ffi-tsan: ffi-build
	MCPAUTH_TEST_MODE=tsan MCPAUTH_LIB_DIR=$(FFI_DIR) $(CARGO) test -p mcp-auth-ffi --test c_examples --test c_fleet --test c_stream

test-ffi-python: ffi-build
	MCPAUTH_LIB=$(FFI_DIR)/libmcpauth.so $(WITH_DEMO_SERVER) python3 examples/python-ctypes/demo.py {url}

# The Node example through the mcp-auth-client package (bindings/node, mk/node.mk).
test-ffi-node: ffi-build node-example-deps
	MCPAUTH_LIB=$(FFI_DIR)/libmcpauth.so $(WITH_DEMO_SERVER) node examples/node/demo.mjs {url}

# Link the C quickstart dynamically against the build directory, as a user of a plain
# `cargo build` would (-L target/<profile> -lmcpauth), and run it: through an rpath, and through
# LD_LIBRARY_PATH; the dynamic linker must find the SONAME libmcpauth.so.<ABI> there.
FFI_BUILD_DIR_TEST := $(CURDIR)/target/build-dir-test
test-ffi-build-dir: ffi-build
	rm -rf $(FFI_BUILD_DIR_TEST) && mkdir -p $(FFI_BUILD_DIR_TEST)
	test -L $(FFI_DIR)/libmcpauth.so.$(FFI_ABI)
	$(CC) -std=c11 -Wall -Wextra -Wpedantic -Werror -Iinclude -o $(FFI_BUILD_DIR_TEST)/quickstart-rpath \
		examples/c/quickstart.c -L$(FFI_DIR) -Wl,-rpath,$(FFI_DIR) -lmcpauth
	$(CC) -std=c11 -Wall -Wextra -Wpedantic -Werror -Iinclude -o $(FFI_BUILD_DIR_TEST)/quickstart \
		examples/c/quickstart.c -L$(FFI_DIR) -lmcpauth
	readelf -d $(FFI_BUILD_DIR_TEST)/quickstart | grep -q 'NEEDED.*\[libmcpauth.so.$(FFI_ABI)\]'
	ldd $(FFI_BUILD_DIR_TEST)/quickstart-rpath | grep -q 'libmcpauth.so.$(FFI_ABI) => $(FFI_DIR)/libmcpauth.so.$(FFI_ABI)'
	$(FFI_BUILD_DIR_TEST)/quickstart-rpath | tail -1 | grep -qx 'quickstart: ok'
	LD_LIBRARY_PATH=$(FFI_DIR) $(FFI_BUILD_DIR_TEST)/quickstart | tail -1 | grep -qx 'quickstart: ok'
	@echo "build directory: ok (libmcpauth.so.$(FFI_ABI) resolves in $(FFI_DIR))"

# Install into a scratch prefix (debug build, to reuse the test build), then build quickstart.c
# against it with pkg-config, dynamically, and run it; then build the C++ quickstart (shared)
# and the C quickstart (static) with CMake through find_package(mcpauth), and run them.
FFI_INSTALL_TEST := $(CURDIR)/target/install-test
test-ffi-install: ffi-build
	@command -v pkg-config >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq pkg-config; }
	@command -v cmake >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq cmake; }
	rm -rf $(FFI_INSTALL_TEST)
	$(MAKE) -s install FFI_PROFILE=$(FFI_PROFILE) PREFIX=$(FFI_INSTALL_TEST)/usr DESTDIR=
	test -f $(FFI_INSTALL_TEST)/usr/include/mcpauth.h
	test -f $(FFI_INSTALL_TEST)/usr/include/mcpauth.hpp
	test -f $(FFI_INSTALL_TEST)/usr/lib/libmcpauth.a
	test -L $(FFI_INSTALL_TEST)/usr/lib/libmcpauth.so
	readelf -d $(FFI_INSTALL_TEST)/usr/lib/libmcpauth.so.$(FFI_VERSION) | grep -q 'SONAME.*libmcpauth.so.$(FFI_ABI)'
	@# Stripped: no symbol table, no debug info; the exported functions stay.
	! readelf -S $(FFI_INSTALL_TEST)/usr/lib/libmcpauth.so.$(FFI_VERSION) | grep -qE '\.symtab|\.debug_info'
	nm -D --defined-only $(FFI_INSTALL_TEST)/usr/lib/libmcpauth.so.$(FFI_VERSION) | grep -q ' T mcpauth_client_send$$'
	@echo "installed libmcpauth.so: $$(stat -c %s $(FFI_DIR)/libmcpauth.so) bytes built, $$(stat -c %s $(FFI_INSTALL_TEST)/usr/lib/libmcpauth.so.$(FFI_VERSION)) installed (stripped)"
	PKG_CONFIG_PATH=$(FFI_INSTALL_TEST)/usr/lib/pkgconfig pkg-config --modversion mcpauth | grep -qx '$(FFI_VERSION)'
	$(CC) -std=c11 -Wall -Wextra -Wpedantic -Werror -o $(FFI_INSTALL_TEST)/quickstart examples/c/quickstart.c \
		$$(PKG_CONFIG_PATH=$(FFI_INSTALL_TEST)/usr/lib/pkgconfig pkg-config --cflags --libs mcpauth) \
		-Wl,-rpath,$(FFI_INSTALL_TEST)/usr/lib
	$(FFI_INSTALL_TEST)/quickstart | tail -1 | grep -qx 'quickstart: ok'
	@echo "install: ok (dynamic link through pkg-config, SONAME libmcpauth.so.$(FFI_ABI))"
	cmake -S examples/cpp -B $(FFI_INSTALL_TEST)/cmake-build -DCMAKE_PREFIX_PATH=$(FFI_INSTALL_TEST)/usr \
		-DCMAKE_BUILD_TYPE=Debug >$(FFI_INSTALL_TEST)/cmake-configure.log
	cmake --build $(FFI_INSTALL_TEST)/cmake-build >$(FFI_INSTALL_TEST)/cmake-build.log
	readelf -d $(FFI_INSTALL_TEST)/cmake-build/quickstart | grep -q 'NEEDED.*\[libmcpauth.so.$(FFI_ABI)\]'
	! readelf -d $(FFI_INSTALL_TEST)/cmake-build/quickstart_c_static | grep -q 'NEEDED.*libmcpauth'
	$(FFI_INSTALL_TEST)/cmake-build/quickstart_c_static | tail -1 | grep -qx 'quickstart: ok'
	$(WITH_DEMO_SERVER) $(FFI_INSTALL_TEST)/cmake-build/quickstart {url} | tail -1 | grep -qx 'quickstart: ok'
	@echo "install: ok (CMake find_package(mcpauth): C++ wrapper over the shared library, C over the static one)"
