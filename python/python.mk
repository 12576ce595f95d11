# Python recipes: build-python, test-python, bench-python.
#
# Everything runs in the project's own virtualenv at $(ROOT)/.venv, which
# these recipes create and fill on first use (and again when this file
# changes); later runs only rebuild the extension, incrementally.

.PHONY: build-python test-python bench-python python-venv

PYTHON ?= python3
PY_VENV := $(ROOT)/.venv
PY := $(PY_VENV)/bin/python
# Touched once the tools are installed; removing .venv starts over.
PY_VENV_STAMP := $(PY_VENV)/.ringq-tools
PY_TOOLS := "maturin>=1.9.4,<2" pytest matplotlib mypy

$(PY_VENV_STAMP): $(ROOT)/python/python.mk
	test -x $(PY) || $(PYTHON) -m venv $(PY_VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check $(PY_TOOLS)
	touch $@

python-venv: $(PY_VENV_STAMP)

# Builds the extension in release mode and installs the package into the
# virtualenv (the compiled module lands in python/ringq/, the package is
# installed in development mode).
build-python: $(PY_VENV_STAMP)
	cd $(ROOT)/python && VIRTUAL_ENV=$(PY_VENV) PATH="$(PY_VENV)/bin:$$PATH" \
		$(PY_VENV)/bin/maturin develop --release --quiet

# Stubs against the compiled module, the example with both queue modules,
# then the test suite (its summary line comes last).
test-python: build-python
	cd $(ROOT) && $(PY) -m mypy.stubtest ringq
	cd $(ROOT) && $(PY) -m mypy --strict --no-incremental examples/python/thread_pool.py
	cd $(ROOT) && timeout 300 $(PY) examples/python/thread_pool.py --impl ringq
	cd $(ROOT) && timeout 300 $(PY) examples/python/thread_pool.py --impl stdlib
	cd $(ROOT) && timeout 1200 $(PY) -m pytest -p no:cacheprovider tests/python

bench-python: build-python
	cd $(ROOT) && $(PY) benches/python/bench_queues.py --out $(ROOT)/benches/results/python.png
