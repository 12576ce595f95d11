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

# Under Stacked Borrows, then Tree Borrows: the multi-threaded tests with
# every seed in MIRI_SEEDS, the model, wrap-around, size and drop tests once
# (they run on one thread, with sizes cut down under cfg(miri)). The drop
# tests leak on purpose (an item whose drop panics leaves the rest of the
# queue leaked), so only they run with leak checks off.
test-miri: miri-tools
	@for borrows in stacked tree; do \
		flags=; [ $$borrows = tree ] && flags=-Zmiri-tree-borrows; \
		echo "test-miri: $$borrows borrows"; \
		MIRIFLAGS="$$flags -Zmiri-many-seeds=$(MIRI_SEEDS)" \
			$(MIRI) test -q -p ringq --test threads || exit 1; \
		MIRIFLAGS="$$flags" $(MIRI) test -q -p ringq --lib \
			--test model_queues --test wrap --test sizes || exit 1; \
		MIRIFLAGS="$$flags -Zmiri-ignore-leaks" \
			$(MIRI) test -q -p ringq --test model_drop || exit 1; \
	done
