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
# tests/python/cpython/run_test_queue.py), on every CPython from 3.9 up
# that pyenv lists. The project's interpreter uses the project's build;
# each other one gets its own wheel, built in its own cargo target dir (so
# later runs rebuild incrementally) and unpacked under build/cpython/.
# Without pyenv, only the project's interpreter runs.
PYENV_ROOT_DIR := $(shell pyenv root 2>/dev/null)
CPYTHON_VERSIONS := $(shell pyenv versions --bare 2>/dev/null | grep -E '^3\.(9|[1-9][0-9])\.[0-9]+$$')
CPYTHON_BUILD := $(ROOT)/build/cpython
RUN_TEST_QUEUE := cd $(ROOT)/tests/python/cpython && timeout 600

test-cpython-queue: build-python
	@own=$$($(PY) -c 'import platform; print(platform.python_version())'); \
	versions="$(CPYTHON_VERSIONS)"; \
	if [ -z "$$versions" ]; then \
		echo "test-cpython-queue: pyenv lists no CPython >= 3.9; running on the project's interpreter only"; \
		versions="$$own"; \
	fi; \
	summary=""; \
	for v in $$versions; do \
		out="$(CPYTHON_BUILD)/$$v"; \
		rm -rf "$$out"; mkdir -p "$$out"; \
		if [ "$$v" = "$$own" ]; then \
			run="$(PY)"; site=""; \
		else \
			run="$(PYENV_ROOT_DIR)/versions/$$v/bin/python3"; site="$$out/site"; \
			$(PY_VENV)/bin/maturin build --release --quiet -i "$$run" -m $(ROOT)/python/Cargo.toml \
				--target-dir $(ROOT)/target/cpython/$$v --out "$$out/wheel"; \
			"$$run" -m zipfile -e "$$out"/wheel/*.whl "$$site"; \
		fi; \
		if ! ($(RUN_TEST_QUEUE) env PYTHONPATH="$$site" "$$run" -B run_test_queue.py) > "$$out/test_queue.log" 2>&1; then \
			cat "$$out/test_queue.log"; exit 1; \
		fi; \
		cat "$$out/test_queue.log"; \
		summary="$$summary$$(tail -n 1 "$$out/test_queue.log")"$$'\n'; \
	done; \
	echo; echo "test_queue summary:"; printf "%s" "$$summary"

bench-python: build-python
	cd $(ROOT) && $(PY) benches/python/bench_queues.py --out $(ROOT)/benches/results/python.png
	cd $(ROOT) && $(PY) benches/python/bench_lifo_priority.py
