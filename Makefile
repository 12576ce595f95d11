# ringq: on a fresh machine `make bench` and `make test` are all you need.
# Each area keeps its own recipes in a fragment next to its code:
#   core/core.mk     the core's tests on i686 and under Miri
#   core/amqp.mk     the RabbitMQ bridge's tests against a real broker
#   c-api/c-api.mk   the C library, its tests, example, benchmark and install
#   python/python.mk the project virtualenv, the extension, its tests and benchmark
#   python/wheels.mk release wheels, tested as users install them

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
# Loom explores every interleaving up to this many preemptions.
LOOM_MAX_PREEMPTIONS ?= 3
# Loom builds with a different cfg, so it gets its own target dir to avoid
# rebuilding the normal one every time.
LOOM_TARGET_DIR := $(ROOT)/target/loom

# Installs Debian packages $(2) for $(1), with sudo when not root; the
# fragments call it for the system tools their tests need.
define apt_install
	if ! command -v apt-get >/dev/null; then \
		echo "$(1): missing $(2) and no apt-get to install it" >&2; exit 1; fi; \
	sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	$$sudo apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $(2) >/dev/null
endef

# nextest runs test binaries in parallel and reports per test; fall back to
# cargo test where it is not installed.
RUST_TEST := $(shell $(CARGO) nextest --version >/dev/null 2>&1 && echo "$(CARGO) nextest run --no-tests=warn" || echo "$(CARGO) test")

.PHONY: help build test bench lint test-rust test-doc test-loom test-stress test-msrv test-publish \
	bench-rust bench-shm dist clean

help:
	@echo "make test    build everything and run every test (Rust, loom, stress, C, Python)"
	@echo "make bench   build everything and run the benchmarks against the peers"
	@echo "make install PREFIX=/usr/local   install the C library, header and ringq.pc"
	@echo "make dist    in dist/: manylinux wheels for each CPython 3.9+, the sdist, the C archives"
	@echo
	@echo "parts of make test:  lint test-rust test-doc test-loom test-i686 test-miri test-stress"
	@echo "                     test-msrv test-publish test-c test-python test-wheels test-amqp"
	@echo "parts of make bench: bench-rust bench-shm bench-c bench-python bench-amqp"

build: build-rust build-c build-python

build-rust:
	$(CARGO) build --release

test: lint test-rust test-doc test-loom test-i686 test-miri test-stress test-msrv test-publish test-c test-python test-amqp
	@echo "make test: all suites passed"

bench: bench-rust bench-shm bench-c bench-python bench-amqp

# Unit, functional and model tests of the core, and everything else in the
# default workspace members except the long stress tests.
test-rust:
	$(RUST_TEST) --release --exclude ringq-tests --workspace --exclude ringq-python

test-doc:
	$(CARGO) test --release --doc -p ringq -p ringq-tests

test-loom:
	RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR="$(LOOM_TARGET_DIR)" \
	LOOM_MAX_PREEMPTIONS=$(LOOM_MAX_PREEMPTIONS) \
		$(CARGO) test --release -p ringq --test 'loom_*'

test-stress:
	$(RUST_TEST) --release -p ringq-tests

# Each crate users build, checked with the oldest Rust its manifest declares
# (tests/msrv.sh; rustup installs the toolchain when it is missing).
test-msrv: python-venv
	$(ROOT)/tests/msrv.sh $(ROOT) $(or $(CARGO_TARGET_DIR),$(ROOT)/target)/msrv $(PY)

# Packages the crate as crates.io would get it and builds it from the
# package. --allow-dirty: a work tree with uncommitted changes is checked too.
test-publish:
	$(CARGO) publish --dry-run --allow-dirty --quiet -p ringq

# Every release artifact, in dist/.
dist: wheels dist-c

bench-rust:
	$(CARGO) bench -p ringq-benches --bench queues

# The shared-memory queue between processes, the Rust and the C API side by
# side (benches/benches/shm.rs; its C worker is benches/c/shm_worker.c). The
# Rust workers are built as the C library is (fat LTO, one codegen unit, the
# same inlining budget; see c-api.mk), in a target dir of their own, so the
# table compares the two APIs rather than two build profiles.
bench-shm: c-tools build-c
	@mkdir -p $(C_OUT)
	$(CC) -std=c11 -O2 -g -Wall -Wextra -Werror -I$(C_SRC)/include -o $(C_OUT)/shm_worker \
		$(ROOT)/benches/c/shm_worker.c -L$(C_LIB) -Wl,-rpath,$(C_LIB) -lringq
	CARGO_PROFILE_BENCH_LTO=fat CARGO_PROFILE_BENCH_CODEGEN_UNITS=1 \
	RUSTFLAGS="$(RUSTFLAGS) -C llvm-args=-inline-threshold=500" \
	CARGO_TARGET_DIR=$(ROOT)/target/bench-shm \
		$(CARGO) bench -p ringq-benches --bench shm -- --c-worker $(C_OUT)/shm_worker

# Formatting and clippy, for the normal build and for the loom build (whose
# shim module and models only exist under cfg(loom)), then rustdoc with
# broken links as errors.
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --features ringq/amqp,ringq-python/amqp -- -D warnings
	RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR="$(LOOM_TARGET_DIR)" \
		$(CARGO) clippy -p ringq --tests -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps -p ringq --features amqp
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps -p ringq-c
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps --document-private-items -p ringq-python --features amqp

clean:
	$(CARGO) clean
	rm -rf .venv build

include core/core.mk
include c-api/c-api.mk
include python/python.mk
include python/wheels.mk
# After python.mk: its recipes use the Python virtualenv's names.
include core/amqp.mk
