# Release wheels: what Python users install, checked the way they install it.
# Included by the top-level Makefile, which provides CARGO and ROOT;
# python/python.mk provides PY_VENV and PY. The scripts are in
# python/packaging/.
#
#   make wheels       dist/: a manylinux2014 (glibc >= 2.17) x86_64 wheel for
#                     each CPython from 3.9 up that pyenv lists, and the sdist
#   make test-wheels  each wheel in a fresh venv of its interpreter, without
#                     Rust on PATH, running tests/python against it
#
# make test runs test-wheels. Override the interpreters with
# WHEEL_PYTHONS="/path/to/python3.12 ...".

.PHONY: wheels test-wheels dist-tools

test: test-wheels

PY_PACKAGING := $(ROOT)/python/packaging

DIST_DIR := $(ROOT)/dist
# The CPython versions a wheel is expected for; one that is missing here is
# reported and skipped.
WHEEL_MINORS := 3.9 3.10 3.11 3.12 3.13
# Without pyenv, the python3 on PATH.
WHEEL_PYTHONS ?= $(or $(shell $(PY_PACKAGING)/find-pythons.sh),$(shell command -v python3))
# Built in a staging directory and copied to dist/ once they pass the checks.
WHEEL_STAGE := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)/wheels
WHEEL_VENVS := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)/wheel-venvs
WHEEL_STAMP := $(DIST_DIR)/.wheels-built
# Rewritten only when the interpreter list changes, so that a new one
# rebuilds the wheels.
WHEEL_PYTHONS_LIST := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)/wheel-pythons
$(shell mkdir -p $(dir $(WHEEL_PYTHONS_LIST)); \
	echo '$(WHEEL_PYTHONS)' | cmp -s - $(WHEEL_PYTHONS_LIST) || echo '$(WHEEL_PYTHONS)' >$(WHEEL_PYTHONS_LIST))
# Everything that goes into a wheel or the sdist.
WHEEL_INPUTS := $(ROOT)/Cargo.toml $(ROOT)/Cargo.lock \
	$(ROOT)/core/Cargo.toml $(ROOT)/core/README.md $(shell find $(ROOT)/core/src -name '*.rs') \
	$(ROOT)/python/Cargo.toml $(ROOT)/python/pyproject.toml $(ROOT)/python/README.md \
	$(wildcard $(ROOT)/python/build.rs) $(shell find $(ROOT)/python/src -name '*.rs') \
	$(shell find $(ROOT)/python/ringq -name '*.py' -o -name '*.pyi' -o -name py.typed) \
	$(ROOT)/python/wheels.mk $(PY_PACKAGING)/check_dist.py $(WHEEL_PYTHONS_LIST)
# zig links against glibc 2.17 stubs whatever the build machine's glibc is;
# auditwheel checks the result.
DIST_TOOLS := "ziglang>=0.13,<0.18" "auditwheel>=6,<7"
DIST_TOOLS_STAMP := $(PY_VENV)/.ringq-dist-tools

$(DIST_TOOLS_STAMP): $(PY_VENV_STAMP) $(ROOT)/python/wheels.mk
	$(PY) -m pip install --quiet --disable-pip-version-check $(DIST_TOOLS)
	touch $@

dist-tools: $(DIST_TOOLS_STAMP)

wheels: $(WHEEL_STAMP)

$(WHEEL_STAMP): $(WHEEL_INPUTS) $(DIST_TOOLS_STAMP)
	@for minor in $(WHEEL_MINORS); do \
		case " $(WHEEL_PYTHONS) " in *python$$minor" "*) ;; \
		*) echo "wheels: no CPython $$minor in WHEEL_PYTHONS (from pyenv versions); no wheel for it";; esac; \
	done
	@if [ -z "$(strip $(WHEEL_PYTHONS))" ]; then \
		echo "wheels: no interpreter found; set WHEEL_PYTHONS" >&2; exit 1; fi
	rm -rf $(WHEEL_STAGE) && mkdir -p $(WHEEL_STAGE)
	cd $(ROOT)/python && PATH="$(PY_VENV)/bin:$$PATH" \
		maturin build --profile wheel --zig --compatibility manylinux2014 \
		--interpreter $(WHEEL_PYTHONS) --out $(WHEEL_STAGE)
	cd $(ROOT)/python && PATH="$(PY_VENV)/bin:$$PATH" maturin sdist --out $(WHEEL_STAGE)
	$(PY) $(PY_PACKAGING)/check_dist.py $(WHEEL_STAGE)
	mkdir -p $(DIST_DIR)
	rm -f $(DIST_DIR)/ringq-*.whl $(DIST_DIR)/ringq-[0-9]*.tar.gz
	cp $(WHEEL_STAGE)/ringq-* $(DIST_DIR)/
	touch $@

test-wheels: wheels
	$(PY_PACKAGING)/test-wheels.sh $(DIST_DIR) $(WHEEL_VENVS) $(ROOT)/tests/python $(WHEEL_PYTHONS)
