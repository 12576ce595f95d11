# Python recipes: build-python, test-python, bench-python.
#
# Everything runs in the project's own virtualenv at $(ROOT)/.venv, which
# these recipes create and fill on first use (and again when this file
# changes); later runs only rebuild the extension, incrementally.

.PHONY: build-python test-python bench-python python-venv test-cpython-queue

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
	$(MAKE) --no-print-directory test-cpython-queue

# CPython's own Lib/test/test_queue.py against ringq (see
# tests/python/cpython/run_test_queue.py), on every CPython that gets a
# release wheel (python/wheels.mk: each one from 3.9 up that pyenv lists),
# run against that very wheel, unpacked under build/cpython/.
CPYTHON_BUILD := $(ROOT)/build/cpython
RUN_TEST_QUEUE := cd $(ROOT)/tests/python/cpython && timeout 600

test-cpython-queue: wheels
	@summary=""; \
	for run in $(WHEEL_PYTHONS); do \
		tag=$$("$$run" -c 'import sys; print("cp%d%d" % sys.version_info[:2])'); \
		wheel=$$(ls $(DIST_DIR)/ringq-*-$$tag-$$tag-*.whl); \
		out="$(CPYTHON_BUILD)/$$tag"; \
		rm -rf "$$out"; mkdir -p "$$out"; \
		"$$run" -m zipfile -e "$$wheel" "$$out/site"; \
		if ! ($(RUN_TEST_QUEUE) env PYTHONPATH="$$out/site" "$$run" -B run_test_queue.py) > "$$out/test_queue.log" 2>&1; then \
			cat "$$out/test_queue.log"; exit 1; \
		fi; \
		cat "$$out/test_queue.log"; \
		summary="$$summary$$(tail -n 1 "$$out/test_queue.log")"$$'\n'; \
	done; \
	echo; echo "test_queue summary:"; printf "%s" "$$summary"

bench-python: build-python
	cd $(ROOT) && $(PY) benches/python/bench_queues.py --out $(ROOT)/benches/results/python.png
	cd $(ROOT) && $(PY) benches/python/bench_lifo_priority.py
