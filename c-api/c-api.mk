# The C library: build, tests, benchmark, install and release archive.
# Included by the top-level Makefile, which provides CARGO, ROOT and apt_install.
#
#   make build-c      libringq.so and libringq.a, stripped, in target/c/lib
#                     (debug info beside them, in target/c/lib/.debug)
#   make test-c       header drift check, C tests linked three ways (shared,
#                     static archive, fully static) under valgrind, the
#                     example, install + pkg-config, the release archive
#                     without cargo, and the tests under ThreadSanitizer
#   make bench-c      ringq vs a mutex queue, ck_ring and the Rust core:
#                     throughput and a thread pool
#   make install PREFIX=/usr/local [DESTDIR=...]   stripped libraries, header,
#                     ringq.pc and ringq-static.pc
#   make install-debug PREFIX=...   the shared library's debug info
#   make dist-c       dist/ringq-c-VERSION-TRIPLE.tar.gz (and -debug.tar.gz)
#   make build-c-tsan the library built for ThreadSanitizer (nightly Rust)
#   make build-c-examples  examples/c/*.c, linked to target/c/lib, in target/c
#   make c-header     regenerate c-api/include/ringq.h after changing c-api/src
#
# Missing tools (cbindgen, gcc, binutils, pkg-config, valgrind, the static C
# library, libck-dev, Rust nightly's source for the TSan build) are installed
# with apt-get or rustup when they are available, so a fresh Debian machine
# needs nothing else.

.PHONY: build-c test-c bench-c install install-debug dist-c build-c-tsan test-c-tsan build-c-examples \
	c-header c-header-check c-tools c-bench-tools c-tsan-tools

C_SRC := $(ROOT)/c-api
C_TARGET := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)
# The C library is built with its own cargo profile, `clib`: release plus
# fat LTO in one codegen unit. LTO lets the exported functions inline the
# core's code and drops most of the Rust standard library from libringq.a
# (13 MB of objects without it, under 3 MB with it). Defining the profile
# here keeps the workspace's release profile, and its build, as they are.
# LLVM's default inlining budget leaves the bounded queues' try_push and
# try_pop as calls inside the exported functions, which returns their
# result through memory: 155 instructions per push and pop instead of 126
# (callgrind), for about 70 KiB more library with the larger budget.
C_CARGO := CARGO_PROFILE_CLIB_INHERITS=release CARGO_PROFILE_CLIB_LTO=fat \
	CARGO_PROFILE_CLIB_CODEGEN_UNITS=1 \
	RUSTFLAGS="$(RUSTFLAGS) -C llvm-args=-inline-threshold=500" $(CARGO)
C_BUILD := $(C_TARGET)/clib
# Everything the C recipes build goes here: libraries laid out as installed,
# test binaries, the example and the benchmark.
C_OUT := $(C_TARGET)/c
C_LIB := $(C_OUT)/lib
CC ?= cc
# C99 is the oldest standard the header supports, and -pedantic keeps the
# tests and the example from leaning on anything newer or on extensions.
C_WARN := -std=c99 -pedantic -O2 -g -Wall -Wextra -Werror -pthread
# What a program linked against libringq.a needs besides it: rustc's
# --print native-static-libs for this target, minus libc and minus -lgcc_s.
# The compiler driver adds the unwinder itself (libgcc_s when linking
# dynamically, libgcc_eh with -static), and naming libgcc_s, which has no
# static archive, breaks `cc -static`.
C_STATIC_DEPS := -lpthread -ldl -lm -lrt -lutil
VALGRIND := valgrind --quiet --error-exitcode=1 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect

C_VERSION = $(shell sed -n 's/^\#define RINGQ_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$$/\2/p' \
	$(C_SRC)/include/ringq.h | paste -sd.)
C_SONAME = $(shell v=$(C_VERSION); maj=$${v%%.*}; rest=$${v#*.}; \
	if [ "$$maj" = 0 ]; then echo libringq.so.0.$${rest%%.*}; else echo libringq.so.$$maj; fi)
C_TRIPLE = $(shell $(CC) -dumpmachine)
C_DIST_NAME = ringq-c-$(C_VERSION)-$(C_TRIPLE)
C_DIST_DIR := $(ROOT)/dist

c-tools:
	@missing=; \
	command -v cbindgen >/dev/null || missing="$$missing cbindgen"; \
	command -v $(CC) >/dev/null || missing="$$missing gcc"; \
	command -v objcopy >/dev/null || missing="$$missing binutils"; \
	command -v pkg-config >/dev/null || missing="$$missing pkg-config"; \
	command -v valgrind >/dev/null || missing="$$missing valgrind"; \
	if [ -n "$$missing" ]; then \
		echo "c-api: installing$$missing"; \
		$(call apt_install,c-api,$$missing); \
	fi; \
	if [ "$$($(CC) -print-file-name=libc.a)" = libc.a ]; then \
		echo "c-api: installing libc6-dev (the static C library, for fully static links)"; \
		$(call apt_install,c-api,libc6-dev); \
	fi

# Concurrency Kit is only a benchmark peer: if it cannot be installed the
# benchmark says so and runs without it.
c-bench-tools: c-tools
	@if ! echo '#include <ck_ring.h>' | $(CC) -E -x c - >/dev/null 2>&1; then \
		echo "c-api: installing libck-dev (Concurrency Kit) for the benchmark"; \
		( $(call apt_install,c-api,libck-dev) ) || \
			echo "c-api: could not install libck-dev; ck_ring will be skipped"; \
	fi

# Builds the libraries and lays them out under target/c/lib as they are
# installed (versioned file, SONAME link, development link), stripped: the
# shared library keeps only its dynamic symbols and points, through
# .gnu_debuglink, at its debug info in .debug/; the archive loses its debug
# sections. Debuggers and valgrind find .debug/ next to the library.
build-c: c-tools
	$(C_CARGO) build --profile clib -p ringq-c
	@mkdir -p $(C_LIB)/.debug
	@objcopy --only-keep-debug $(C_BUILD)/libringq.so $(C_LIB)/.debug/$(C_SONAME).debug
	@cd $(C_LIB) && objcopy --strip-unneeded --add-gnu-debuglink=.debug/$(C_SONAME).debug \
		$(C_BUILD)/libringq.so $(C_SONAME).tmp && mv -f $(C_SONAME).tmp $(C_SONAME)
	@ln -sf $(C_SONAME) $(C_LIB)/libringq.so
	@strip --strip-debug -o $(C_LIB)/libringq.a.tmp $(C_BUILD)/libringq.a
	@mv -f $(C_LIB)/libringq.a.tmp $(C_LIB)/libringq.a

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

C_TESTS := test_api test_stress test_shm test_shm_watch
C_INC := -I$(C_SRC)/include

# Every C test binary is linked three ways: against the shared library,
# against the static archive in a dynamic executable, and fully static. The
# first two run under valgrind (which cannot watch the allocator of a fully
# static program, so that one runs natively). Then the example, a longer
# native stress run, the build-time checks, install + pkg-config, the release
# archive and ThreadSanitizer. Prints one line per check and a summary.
# The examples, against the library in target/c/lib: thread_pool runs in
# test-c, shm_producer feeds examples/python/c_producer.py in test-python.
C_EXAMPLES := thread_pool shm_producer

build-c-examples: build-c
	@mkdir -p $(C_OUT)
	for e in $(C_EXAMPLES); do \
		$(CC) $(C_WARN) $(C_INC) -o $(C_OUT)/$$e $(ROOT)/examples/c/$$e.c \
			-L$(C_LIB) -Wl,-rpath,$(C_LIB) -lringq; \
	done

test-c: c-tools c-header-check build-c build-c-examples
	@mkdir -p $(C_OUT)/tests
	@set +e; passed=0; failed=0; start=$$(date +%s); \
	run() { name=$$1; shift; \
		if "$$@"; then passed=$$((passed + 1)); echo "c: $$name ok"; \
		else failed=$$((failed + 1)); echo "c: $$name FAILED" >&2; fi; }; \
	for t in $(C_TESTS); do \
		$(CC) $(C_WARN) $(C_INC) -o $(C_OUT)/tests/$$t-shared $(ROOT)/tests/c/$$t.c \
			-L$(C_LIB) -Wl,-rpath,$(C_LIB) -lringq || exit 1; \
		$(CC) $(C_WARN) $(C_INC) -o $(C_OUT)/tests/$$t-static $(ROOT)/tests/c/$$t.c \
			$(C_LIB)/libringq.a $(C_STATIC_DEPS) || exit 1; \
		$(CC) $(C_WARN) -static $(C_INC) -o $(C_OUT)/tests/$$t-fully-static $(ROOT)/tests/c/$$t.c \
			$(C_LIB)/libringq.a $(C_STATIC_DEPS) || exit 1; \
		run "$$t (shared, valgrind)" $(VALGRIND) $(C_OUT)/tests/$$t-shared; \
		run "$$t (static archive, valgrind)" $(VALGRIND) $(C_OUT)/tests/$$t-static; \
		run "$$t (fully static)" $(C_OUT)/tests/$$t-fully-static; \
	done; \
	run "test_stress (native speed, more items)" $(C_OUT)/tests/test_stress-shared 100000; \
	run "example thread_pool (valgrind)" $(VALGRIND) $(C_OUT)/thread_pool; \
	run "const handles refused by mutating calls" $(MAKE) --no-print-directory -f $(ROOT)/Makefile c-const-check; \
	run "libraries stripped, SONAME kept" $(MAKE) --no-print-directory -f $(ROOT)/Makefile c-strip-check; \
	run "install + pkg-config, three ways" $(MAKE) --no-print-directory -f $(ROOT)/Makefile c-install-check; \
	run "release archive, without cargo" $(MAKE) --no-print-directory -f $(ROOT)/Makefile c-dist-check; \
	run "ThreadSanitizer" $(MAKE) --no-print-directory -f $(ROOT)/Makefile test-c-tsan; \
	echo "c: $$passed passed, $$failed failed in $$(( $$(date +%s) - start )) s"; \
	[ $$failed = 0 ]

# Every call that changes a queue must refuse a const handle: one
# discarded-qualifiers diagnostic per marked call, for each of the 3 kinds.
.PHONY: c-const-check
c-const-check:
	@src=$(ROOT)/tests/c/const_handles_refused.c; \
	expected=$$((3 * $$(grep -c '/\* refused by each kind \*/' $$src) + \
		$$(grep -c '/\* refused \*/' $$src))); \
	got=$$(LC_ALL=C $(CC) -std=c99 -c -o /dev/null $(C_INC) $$src 2>&1 | \
		grep -c '\[-Wdiscarded-qualifiers\]' || true); \
	if [ "$$got" != "$$expected" ]; then \
		echo "c: $$got of $$expected mutating calls refused a const handle" >&2; exit 1; fi

# The libraries as installed carry no debug sections or static symbol table,
# the shared one keeps its SONAME and points at its debug info, and that debug
# info matches it (same build id).
.PHONY: c-strip-check
c-strip-check:
	@so=$(C_LIB)/$(C_SONAME); dbg=$(C_LIB)/.debug/$(C_SONAME).debug; \
	fail() { echo "c: $$*" >&2; exit 1; }; \
	so_sections=$$(readelf -S --wide $$so); a_sections=$$(readelf -S --wide $(C_LIB)/libringq.a); \
	grep -q '\.debug_' <<<"$$so_sections" && fail "$$so has debug sections"; \
	grep -q ' \.symtab ' <<<"$$so_sections" && fail "$$so has a static symbol table"; \
	grep -q '\.gnu_debuglink' <<<"$$so_sections" || fail "$$so has no debug link"; \
	grep -q "SONAME.*\[$(C_SONAME)\]" <<<"$$(readelf -d $$so)" || fail "$$so lost its SONAME"; \
	grep -q '\.debug_info' <<<"$$(readelf -S --wide $$dbg)" || fail "$$dbg holds no debug info"; \
	build_id() { sed -n 's/.*Build ID: //p' <<<"$$(readelf -n $$1)"; }; \
	[ -n "$$(build_id $$so)" ] && [ "$$(build_id $$so)" = "$$(build_id $$dbg)" ] || fail "build ids differ"; \
	grep -q '\.debug_' <<<"$$a_sections" && fail "libringq.a has debug sections"; \
	for f in $$so $(C_LIB)/libringq.a $$dbg; do \
		echo "c:   $$(( $$(stat -c %s $$f) / 1024 )) KiB  $${f#$(C_OUT)/}"; done

# Installs into a temporary prefix and builds a program the way users do:
# against the shared library, against the static archive (ringq-static.pc)
# and fully static (`cc -static` with `pkg-config --static`).
.PHONY: c-install-check
c-install-check:
	@prefix=$$(mktemp -d); trap 'rm -rf $$prefix' EXIT; \
	$(MAKE) --no-print-directory -f $(ROOT)/Makefile install PREFIX=$$prefix >/dev/null && \
	export PKG_CONFIG_PATH=$$prefix/lib/pkgconfig && \
	app=$(ROOT)/tests/c/pkgconfig_app.c && \
	$(CC) $(C_WARN) -o $$prefix/app-shared $$app $$(pkg-config --cflags --libs ringq) && \
	LD_LIBRARY_PATH=$$prefix/lib $$prefix/app-shared && \
	$(CC) $(C_WARN) -o $$prefix/app-static $$app $$(pkg-config --cflags --libs ringq-static) && \
	! grep -q libringq <<<"$$(ldd $$prefix/app-static)" && $$prefix/app-static && \
	$(CC) -static $(C_WARN) -o $$prefix/app-fully-static $$app \
		$$(pkg-config --cflags --static --libs ringq) && \
	! ldd $$prefix/app-fully-static >/dev/null 2>&1 && $$prefix/app-fully-static

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

# Writes ringq.pc and ringq-static.pc into directory $(1) for the given
# prefix, libdir and includedir (which may refer to ${pcfiledir}).
define c_write_pc
	for pc in ringq ringq-static; do \
		sed -e 's|@PREFIX@|$(2)|' -e 's|@LIBDIR@|$(3)|' -e 's|@INCLUDEDIR@|$(4)|' \
			-e 's|@VERSION@|$(C_VERSION)|' -e 's|@LIBS_PRIVATE@|$(C_STATIC_DEPS)|' \
			$(C_SRC)/pkgconfig/$$pc.pc.in > $(1)/$$pc.pc; \
	done
endef

# Installs ringq.h, libringq.so (versioned, with links), libringq.a and the
# pkg-config files, all stripped (debug info: make install-debug).
install: build-c
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 $(C_SRC)/include/ringq.h $(DESTDIR)$(INCLUDEDIR)/ringq.h
	install -m 755 $(C_LIB)/$(C_SONAME) $(DESTDIR)$(LIBDIR)/$(C_SONAME)
	ln -sf $(C_SONAME) $(DESTDIR)$(LIBDIR)/libringq.so
	install -m 644 $(C_LIB)/libringq.a $(DESTDIR)$(LIBDIR)/libringq.a
	@$(call c_write_pc,$(DESTDIR)$(PKGCONFIGDIR),$(PREFIX),$(LIBDIR),$(INCLUDEDIR))

# The shared library's debug info, where gdb and valgrind look for it: in
# .debug/ beside the library, named by the library's .gnu_debuglink.
install-debug: build-c
	install -d $(DESTDIR)$(LIBDIR)/.debug
	install -m 644 $(C_LIB)/.debug/$(C_SONAME).debug $(DESTDIR)$(LIBDIR)/.debug/$(C_SONAME).debug

# The release archive: a prefix (include/, lib/, lib/pkgconfig/) and a README,
# for C users with no Rust. Its .pc files find the prefix through
# ${pcfiledir}, so the archive works wherever it is unpacked. The debug info
# goes in a second archive with the same layout, to unpack over the first.
dist-c: build-c
	@stage=$(C_OUT)/dist/$(C_DIST_NAME); dbg=$(C_OUT)/dist/$(C_DIST_NAME)-debug; \
	rm -rf $(C_OUT)/dist && mkdir -p $$stage/include $$stage/lib/pkgconfig $$dbg/lib/.debug && \
	install -m 644 $(C_SRC)/include/ringq.h $$stage/include/ && \
	install -m 755 $(C_LIB)/$(C_SONAME) $$stage/lib/ && \
	ln -s $(C_SONAME) $$stage/lib/libringq.so && \
	install -m 644 $(C_LIB)/libringq.a $$stage/lib/ && \
	install -m 644 $(C_SRC)/dist/README.md $(ROOT)/LICENSE-MIT $(ROOT)/LICENSE-APACHE $$stage/ && \
	mkdir -p $$stage/examples && install -m 644 $(ROOT)/examples/c/*.c $$stage/examples/ && \
	install -m 644 $(C_LIB)/.debug/$(C_SONAME).debug $$dbg/lib/.debug/ && \
	$(call c_write_pc,$$stage/lib/pkgconfig,$${pcfiledir}/../..,$${prefix}/lib,$${prefix}/include) && \
	mkdir -p $(C_DIST_DIR) && \
	for d in $(C_DIST_NAME) $(C_DIST_NAME)-debug; do \
		tar -C $(C_OUT)/dist --owner=0 --group=0 --numeric-owner --sort=name \
			-czf $(C_DIST_DIR)/$$d.tar.gz $$d; \
		echo "dist-c: $(C_DIST_DIR)/$$d.tar.gz ($$(du -k $(C_DIST_DIR)/$$d.tar.gz | cut -f1) KiB)"; \
	done

# Unpacks the release archive into a temporary directory and, with cargo and
# rustc off PATH, builds the example it ships against it through pkg-config (shared,
# static archive, fully static) and runs it.
.PHONY: c-dist-check
c-dist-check: dist-c
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	tar -xzf $(C_DIST_DIR)/$(C_DIST_NAME).tar.gz -C $$tmp && \
	prefix=$$tmp/$(C_DIST_NAME) && \
	path=$$(echo "$$PATH" | tr : '\n' | \
		while read -r d; do [ -e "$$d/cargo" ] || [ -e "$$d/rustc" ] || printf '%s:' "$$d"; done) && \
	env PATH="$${path%:}" PKG_CONFIG_PATH=$$prefix/lib/pkgconfig CC="$(CC)" \
		C_WARN="$(C_WARN)" EXAMPLE=$$prefix/examples/thread_pool.c OUT=$$tmp sh -ec ' \
		if command -v cargo || command -v rustc; then echo "Rust is still on PATH" >&2; exit 1; fi; \
		[ "$$(pkg-config --variable=prefix ringq)" -ef "$$(dirname $$PKG_CONFIG_PATH)/.." ]; \
		$$CC $$C_WARN -o $$OUT/pool-shared $$EXAMPLE $$(pkg-config --cflags --libs ringq) \
			-Wl,-rpath,$$(pkg-config --variable=libdir ringq); \
		$$CC $$C_WARN -o $$OUT/pool-static $$EXAMPLE $$(pkg-config --cflags --libs ringq-static); \
		$$CC $$C_WARN -static -o $$OUT/pool-fully-static $$EXAMPLE \
			$$(pkg-config --cflags --static --libs ringq); \
		for kind in shared static fully-static; do $$OUT/pool-$$kind >/dev/null; done'

# ---- ThreadSanitizer --------------------------------------------------------
#
# A program built with -fsanitize=thread sees none of the synchronisation
# inside an uninstrumented libringq, so every item handed from one thread to
# another looks like a data race. This builds the library instrumented (with
# the standard library rebuilt the same way, as Rust's sanitizer docs ask),
# and test-c-tsan runs the C tests and the example against it. gcc's libtsan
# is older than nightly Rust's LLVM and lacks some of its entry points, so the
# programs are compiled with gcc's -fsanitize=thread but linked with the TSan
# runtime that ships with the nightly toolchain.

C_HOST = $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
C_TSAN_TARGET := $(C_TARGET)/tsan
C_TSAN_LIB := $(C_OUT)/tsan/lib
C_TSAN_RUNTIME = $(firstword $(wildcard \
	$(shell rustc +nightly --print sysroot 2>/dev/null)/lib/rustlib/$(C_HOST)/lib/librustc-*_rt.tsan.a))
C_TSAN_CFLAGS := -std=c99 -pedantic -O1 -g -Wall -Wextra -Werror -pthread -fsanitize=thread
# allocator_may_return_null: test_api asks for a queue too large to allocate
# and expects RINGQ_ERR_OUT_OF_MEMORY, where TSan would abort by default.
# die_after_fork=0: test_shm_watch forks a process that has a watch's
# thread and starts a watch, so a thread, in the child, which TSan refuses
# by default because its own state may be inconsistent after such a fork.
C_TSAN_OPTIONS := halt_on_error=1 exitcode=66 allocator_may_return_null=1 die_after_fork=0

c-tsan-tools:
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@rustup component list --toolchain nightly --installed | grep -q '^rust-src' || \
		rustup component add rust-src --toolchain nightly

build-c-tsan: c-tsan-tools
	RUSTFLAGS="-Zsanitizer=thread" CARGO_TARGET_DIR=$(C_TSAN_TARGET) \
		$(CARGO) +nightly build -Zbuild-std --target $(C_HOST) --release -p ringq-c
	@mkdir -p $(C_TSAN_LIB)
	@cp -f $(C_TSAN_TARGET)/$(C_HOST)/release/libringq.so $(C_TSAN_LIB)/$(C_SONAME)
	@ln -sf $(C_SONAME) $(C_TSAN_LIB)/libringq.so

# Links a TSan-compiled object: $(1) object, $(2) output, $(3) library dir.
define c_tsan_link
	$(CC) -o $(2) $(1) -L$(3) -Wl,-rpath,$(3) -lringq \
		-Wl,--whole-archive $(C_TSAN_RUNTIME) -Wl,--no-whole-archive -pthread -ldl -lm -lrt
endef

# The tests and the example must run clean against the instrumented library;
# the example against the uninstrumented one must be flagged, which shows
# that the sanitizer is really watching.
test-c-tsan: build-c-tsan build-c
	@[ -n "$(C_TSAN_RUNTIME)" ] || { echo "c: no TSan runtime in the nightly toolchain" >&2; exit 1; }
	@dir=$(C_OUT)/tsan; mkdir -p $$dir; \
	for src in tests/c/test_api.c tests/c/test_stress.c tests/c/test_shm.c tests/c/test_shm_watch.c \
		examples/c/thread_pool.c; do \
		name=$$(basename $$src .c); \
		$(CC) $(C_TSAN_CFLAGS) $(C_INC) -c -o $$dir/$$name.o $(ROOT)/$$src || exit 1; \
		$(call c_tsan_link,$$dir/$$name.o,$$dir/$$name,$(C_TSAN_LIB)) || exit 1; \
		TSAN_OPTIONS="$(C_TSAN_OPTIONS)" $$dir/$$name >/dev/null || \
			{ echo "c: $$name under TSan failed" >&2; exit 1; }; \
	done; \
	$(call c_tsan_link,$$dir/thread_pool.o,$$dir/thread_pool-uninstrumented,$(C_LIB)) || exit 1; \
	if TSAN_OPTIONS="$(C_TSAN_OPTIONS)" $$dir/thread_pool-uninstrumented >/dev/null \
			2>$$dir/uninstrumented.log || \
		! grep -q 'ThreadSanitizer: data race' $$dir/uninstrumented.log; then \
		echo "c: TSan saw no race against the uninstrumented library: is it running?" >&2; exit 1; \
	fi

# ---- benchmark ----------------------------------------------------------------

# One run: throughput (SPSC and MPMC) and a thread pool, rounds interleaved
# across ringq (C API), a mutex + condvar queue, ck_ring and the Rust core
# called directly; medians, ratios, and MET/MISS against the targets.
bench-c: c-bench-tools build-c
	$(CARGO) build --release -p ringq-c --example core_bench
	@mkdir -p $(C_OUT)
	@ck=$$(echo '#include <ck_ring.h>' | $(CC) -E -x c - >/dev/null 2>&1 && echo 1 || true); \
	if [ -n "$$ck" ]; then ckflags="-DHAVE_CK -lck"; else ckflags=""; \
		echo "bench-c: ck_ring not available (libck-dev missing); skipping that peer"; fi; \
	$(CC) -std=c11 -O2 -g -Wall -Wextra -Werror -pthread $(C_INC) \
		-o $(C_OUT)/bench $(ROOT)/benches/c/bench.c \
		-L$(C_LIB) -Wl,-rpath,$(C_LIB) -lringq $$ckflags && \
	$(C_OUT)/bench --rust-core $(C_TARGET)/release/examples/core_bench $(C_BENCH_ARGS)
