# The C library: build-c, test-c, bench-c, install, c-header.
# Included by the top-level Makefile, which provides CARGO and ROOT.
#
#   make build-c     libringq.so and libringq.a (target/release)
#   make test-c      header drift check, C tests (shared and static) and the
#                    example under valgrind, install + pkg-config smoke test
#   make bench-c     C benchmark: ringq vs a mutex queue, ck_ring and the Rust core
#   make install PREFIX=/usr/local [DESTDIR=...]
#   make c-header    regenerate c-api/include/ringq.h after changing c-api/src
#
# Missing tools (cbindgen, gcc, pkg-config, valgrind, libck-dev) are installed
# with apt-get when it is available, so a fresh Debian machine needs nothing
# else.

.PHONY: build-c test-c bench-c install c-header c-header-check c-tools c-bench-tools

C_SRC := $(ROOT)/c-api
C_TARGET := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)
C_RELEASE := $(C_TARGET)/release
# Everything the C recipes build goes here: libraries laid out as installed,
# test binaries, the example and the benchmark.
C_OUT := $(C_TARGET)/c
C_LIB := $(C_OUT)/lib
CC ?= cc
C_WARN := -std=c11 -O2 -g -Wall -Wextra -Werror -pthread
# What a program linked against libringq.a needs besides it (rustc's
# --print native-static-libs for this target, minus libc).
C_STATIC_DEPS := -lgcc_s -lutil -lrt -lpthread -lm -ldl
VALGRIND := valgrind --quiet --error-exitcode=1 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect

C_VERSION = $(shell sed -n 's/^\#define RINGQ_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$$/\2/p' \
	$(C_SRC)/include/ringq.h | paste -sd.)
C_SONAME = $(shell v=$(C_VERSION); maj=$${v%%.*}; rest=$${v#*.}; \
	if [ "$$maj" = 0 ]; then echo libringq.so.0.$${rest%%.*}; else echo libringq.so.$$maj; fi)

# Installs what is missing, with sudo when not root.
define c_apt_install
	if ! command -v apt-get >/dev/null; then \
		echo "c-api: missing $(1) and no apt-get to install it" >&2; exit 1; fi; \
	sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	$$sudo apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $(1) >/dev/null
endef

c-tools:
	@missing=; \
	command -v cbindgen >/dev/null || missing="$$missing cbindgen"; \
	command -v $(CC) >/dev/null || missing="$$missing gcc"; \
	command -v pkg-config >/dev/null || missing="$$missing pkg-config"; \
	command -v valgrind >/dev/null || missing="$$missing valgrind"; \
	if [ -n "$$missing" ]; then \
		echo "c-api: installing$$missing"; \
		$(call c_apt_install,$$missing); \
	fi

# Concurrency Kit is only a benchmark peer: if it cannot be installed the
# benchmark says so and runs without it.
c-bench-tools: c-tools
	@if ! echo '#include <ck_ring.h>' | $(CC) -E -x c - >/dev/null 2>&1; then \
		echo "c-api: installing libck-dev (Concurrency Kit) for the benchmark"; \
		( $(call c_apt_install,libck-dev) ) || \
			echo "c-api: could not install libck-dev; ck_ring will be skipped"; \
	fi

# Builds the libraries and lays them out under target/c/lib as they are
# installed (versioned file, SONAME link, development link).
build-c:
	$(CARGO) build --release -p ringq-c
	@mkdir -p $(C_LIB)
	@cp -f $(C_RELEASE)/libringq.so $(C_LIB)/$(C_SONAME).tmp
	@mv -f $(C_LIB)/$(C_SONAME).tmp $(C_LIB)/$(C_SONAME)
	@ln -sf $(C_SONAME) $(C_LIB)/libringq.so
	@cp -f $(C_RELEASE)/libringq.a $(C_LIB)/libringq.a

# Regenerates the committed header from the crate's sources.
c-header: c-tools
	cbindgen --quiet --config $(C_SRC)/cbindgen.toml --output $(C_SRC)/include/ringq.h $(C_SRC)/src/lib.rs

# Fails when the committed header differs from what the sources produce.
C_CBINDGEN_VERSION := 0.24.3
c-header-check: c-tools
	@v=$$(cbindgen --version | awk '{print $$2}'); \
	if [ "$$v" != $(C_CBINDGEN_VERSION) ]; then \
		echo "c-api: warning: cbindgen $$v; ringq.h is generated with $(C_CBINDGEN_VERSION)," \
			"other versions may format it differently" >&2; \
	fi; \
	tmp=$$(mktemp); trap 'rm -f $$tmp' EXIT; \
	cbindgen --quiet --config $(C_SRC)/cbindgen.toml --output $$tmp $(C_SRC)/src/lib.rs; \
	if ! diff -u $(C_SRC)/include/ringq.h $$tmp; then \
		echo "c-api/include/ringq.h is out of date: run 'make c-header' and commit it" >&2; \
		exit 1; \
	fi; \
	echo "c-api: ringq.h is up to date"

C_TESTS := test_api test_stress test_shm
C_INC := -I$(C_SRC)/include

# Every C test binary, linked against the shared and the static library, plus
# the example, runs under valgrind; then the installed library is linked
# through pkg-config. Prints one line per binary and a summary.
test-c: c-tools c-header-check build-c
	@mkdir -p $(C_OUT)/tests
	@set +e; passed=0; failed=0; \
	run() { name=$$1; shift; \
		if "$$@"; then passed=$$((passed + 1)); echo "c: $$name ok"; \
		else failed=$$((failed + 1)); echo "c: $$name FAILED" >&2; fi; }; \
	for t in $(C_TESTS); do \
		$(CC) $(C_WARN) $(C_INC) -o $(C_OUT)/tests/$$t-shared $(ROOT)/tests/c/$$t.c \
			-L$(C_LIB) -Wl,-rpath,$(C_LIB) -lringq || exit 1; \
		$(CC) $(C_WARN) $(C_INC) -o $(C_OUT)/tests/$$t-static $(ROOT)/tests/c/$$t.c \
			$(C_LIB)/libringq.a $(C_STATIC_DEPS) || exit 1; \
		run "$$t (shared)" $(VALGRIND) $(C_OUT)/tests/$$t-shared; \
		run "$$t (static)" $(VALGRIND) $(C_OUT)/tests/$$t-static; \
	done; \
	run "test_stress (native speed, more items)" $(C_OUT)/tests/test_stress-shared 100000; \
	$(CC) $(C_WARN) $(C_INC) -o $(C_OUT)/thread_pool $(ROOT)/examples/c/thread_pool.c \
		-L$(C_LIB) -Wl,-rpath,$(C_LIB) -lringq || exit 1; \
	run "example thread_pool" $(VALGRIND) $(C_OUT)/thread_pool; \
	run "install + pkg-config" $(MAKE) --no-print-directory -f $(ROOT)/Makefile c-install-check; \
	echo "c: $$passed passed, $$failed failed"; \
	[ $$failed = 0 ]

# Installs into a temporary prefix and builds a program the way users do.
.PHONY: c-install-check
c-install-check:
	@prefix=$$(mktemp -d); trap 'rm -rf $$prefix' EXIT; \
	$(MAKE) --no-print-directory -f $(ROOT)/Makefile install PREFIX=$$prefix >/dev/null && \
	export PKG_CONFIG_PATH=$$prefix/lib/pkgconfig && \
	$(CC) $(C_WARN) -o $$prefix/app $(ROOT)/tests/c/pkgconfig_app.c $$(pkg-config --cflags --libs ringq) && \
	LD_LIBRARY_PATH=$$prefix/lib $$prefix/app

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

# Installs ringq.h, libringq.so (versioned, with links), libringq.a and ringq.pc.
install: build-c
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 $(C_SRC)/include/ringq.h $(DESTDIR)$(INCLUDEDIR)/ringq.h
	install -m 755 $(C_LIB)/$(C_SONAME) $(DESTDIR)$(LIBDIR)/$(C_SONAME)
	ln -sf $(C_SONAME) $(DESTDIR)$(LIBDIR)/libringq.so
	install -m 644 $(C_LIB)/libringq.a $(DESTDIR)$(LIBDIR)/libringq.a
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(C_VERSION)|' \
		-e 's|@LIBS_PRIVATE@|$(C_STATIC_DEPS)|' \
		$(C_SRC)/ringq.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/ringq.pc

# One run: SPSC and MPMC rounds interleaved across ringq (C API), a mutex +
# condvar queue, ck_ring and the Rust core called directly; medians and ratios.
bench-c: c-bench-tools build-c
	$(CARGO) build --release -p ringq-c --example core_bench
	@mkdir -p $(C_OUT)
	@ck=$$(echo '#include <ck_ring.h>' | $(CC) -E -x c - >/dev/null 2>&1 && echo 1 || true); \
	if [ -n "$$ck" ]; then ckflags="-DHAVE_CK -lck"; else ckflags=""; \
		echo "bench-c: ck_ring not available (libck-dev missing); skipping that peer"; fi; \
	$(CC) -std=c11 -O2 -g -Wall -Wextra -Werror -pthread -I$(C_SRC)/include \
		-o $(C_OUT)/bench $(ROOT)/benches/c/bench.c \
		-L$(C_LIB) -Wl,-rpath,$(C_LIB) -lringq $$ckflags && \
	$(C_OUT)/bench --rust-core $(C_RELEASE)/examples/core_bench $(C_BENCH_ARGS)
