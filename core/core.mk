# The core's tests on other targets and under Miri: test-i686, test-miri.
# Included by the top-level Makefile, which provides CARGO, ROOT, RUST_TEST
# and apt_install.
#
#   make test-i686   the core's unit, functional and model tests on 32-bit x86,
#                    where position counters wrap after 2^32 items; a debug
#                    build, so that an arithmetic overflow panics
#   make test-miri   the core's unit, functional and model tests under Miri,
#                    with Stacked Borrows and Tree Borrows, several seeds each
#
# Both install what they need (a rustup target or component, the 32-bit C
# runtime with apt-get), so a fresh machine needs nothing else.

.PHONY: test-i686 test-miri i686-tools miri-tools

I686 := i686-unknown-linux-gnu
CORE_NIGHTLY ?= nightly

i686-tools:
	@rustup target list --installed | grep -qx $(I686) || rustup target add $(I686)
	@if ! echo 'int main(void) { return 0; }' | cc -m32 -x c - -o /dev/null 2>/dev/null; then \
		echo "core: installing gcc-multilib for $(I686)"; \
		$(call apt_install,core,gcc-multilib); \
	fi

test-i686: i686-tools
	$(RUST_TEST) -p ringq --target $(I686)

# Miri runs on nightly, with its own components; `miri setup` builds the
# standard library it needs once.
MIRI := $(CARGO) +$(CORE_NIGHTLY) miri
# Seeds for the multi-threaded tests: each seed is another schedule and
# another choice of the values weak memory allows.
MIRI_SEEDS ?= 0..4

miri-tools:
	@rustup toolchain list | grep -q '^$(CORE_NIGHTLY)' || \
		rustup toolchain install --profile minimal $(CORE_NIGHTLY)
	@rustup component add --toolchain $(CORE_NIGHTLY) miri rust-src 2>&1 | grep -v 'is up to date' || true
	@$(MIRI) setup >/dev/null

# Under Stacked Borrows and Tree Borrows: the multi-threaded tests with
# every seed in MIRI_SEEDS, the model, wrap-around, size and drop tests once
# (they run on one thread, with sizes cut down under cfg(miri)). The drop
# tests leak on purpose (an item whose drop panics leaves the rest of the
# queue leaked), so only they run with leak checks off. Miri interprets on
# one core, so the two models run side by side, each into a log of its own
# that is printed once both are done; the tests are built first, once.
MIRI_LOGS := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)/miri-logs
test-miri: miri-tools
	@$(MIRI) test -q -p ringq --no-run --lib --test threads --test model_queues \
		--test wrap --test sizes --test model_drop
	@mkdir -p $(MIRI_LOGS); \
	run() { borrows=$$1; flags=$$2; \
		MIRIFLAGS="$$flags -Zmiri-many-seeds=$(MIRI_SEEDS)" \
			$(MIRI) test -q -p ringq --test threads && \
		MIRIFLAGS="$$flags" $(MIRI) test -q -p ringq --lib \
			--test model_queues --test wrap --test sizes && \
		MIRIFLAGS="$$flags -Zmiri-ignore-leaks" \
			$(MIRI) test -q -p ringq --test model_drop; }; \
	run stacked "" >$(MIRI_LOGS)/stacked.log 2>&1 & stacked=$$!; \
	run tree -Zmiri-tree-borrows >$(MIRI_LOGS)/tree.log 2>&1 & tree=$$!; \
	rc=0; wait $$stacked || rc=1; wait $$tree || rc=$$((rc + 2)); \
	echo "test-miri: stacked borrows"; cat $(MIRI_LOGS)/stacked.log; \
	echo "test-miri: tree borrows"; cat $(MIRI_LOGS)/tree.log; \
	case $$rc in 0) ;; 1) echo "test-miri: failed under stacked borrows" >&2; exit 1;; \
		2) echo "test-miri: failed under tree borrows" >&2; exit 1;; \
		*) echo "test-miri: failed under both" >&2; exit 1;; esac
