# Python recipes: build-python, test-python, bench-python.
#
# Everything runs in the project's own virtualenv at $(ROOT)/.venv, which
# these recipes create and fill on first use (and again when this file
# changes); later runs only rebuild the extension, incrementally.

.PHONY: build-python test-python bench-python python-venv test-cpython-queue test-cpython-asyncio-queues

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

# Stubs against the compiled module, the examples with both queue modules
# (the process pool small, to keep the run short), the asyncio front end on
# ringq, a Python consumer of a C producer, then the test suite (its
# summary line comes last).
test-python: build-python build-c-examples
	cd $(ROOT) && $(PY) -m mypy.stubtest ringq
	cd $(ROOT) && $(PY) -m mypy --strict --no-incremental examples/python/thread_pool.py
	cd $(ROOT) && timeout 300 $(PY) examples/python/thread_pool.py --impl ringq
	cd $(ROOT) && timeout 300 $(PY) examples/python/thread_pool.py --impl stdlib
	cd $(ROOT) && $(PY) -m mypy --strict --no-incremental examples/python/process_pool.py
	cd $(ROOT) && timeout 300 $(PY) examples/python/process_pool.py --impl ringq --tasks 2000
	cd $(ROOT) && timeout 300 $(PY) examples/python/process_pool.py --impl multiprocessing --tasks 2000
	cd $(ROOT) && $(PY) -m mypy --strict --no-incremental examples/python/asyncio_bridge.py
	cd $(ROOT) && timeout 300 $(PY) examples/python/asyncio_bridge.py --impl ringq
	cd $(ROOT) && $(PY) -m mypy --strict --no-incremental examples/python/c_producer.py
	cd $(ROOT) && timeout 300 $(PY) examples/python/c_producer.py --producer $(C_OUT)/shm_producer
	cd $(ROOT) && timeout 1200 $(PY) -m pytest -p no:cacheprovider tests/python
	$(MAKE) --no-print-directory test-cpython-queue
	$(MAKE) --no-print-directory test-cpython-asyncio-queues

# CPython's own Lib/test/test_queue.py against ringq (see
# tests/python/cpython/run_test_queue.py), on every CPython that gets a
# release wheel (python/wheels.mk: each one from 3.9 up that pyenv lists),
# run against that very wheel, unpacked under build/cpython/.
CPYTHON_BUILD := $(ROOT)/build/cpython
RUN_TEST_QUEUE := cd $(ROOT)/tests/python/cpython && timeout 600

# Runs the runner $(1) (in tests/python/cpython) under every CPython that
# gets a release wheel, against that very wheel unpacked under
# $(CPYTHON_BUILD)/$(2)<tag>, and ends with the last line of each run's log
# under the title $(3).
define run_cpython_suite
	@summary=""; \
	for run in $(WHEEL_PYTHONS); do \
		tag=$$("$$run" -c 'import sys; print("cp%d%d" % sys.version_info[:2])'); \
		wheel=$$(ls $(DIST_DIR)/ringq-*-$$tag-$$tag-*.whl); \
		out="$(CPYTHON_BUILD)/$(2)$$tag"; \
		rm -rf "$$out"; mkdir -p "$$out"; \
		"$$run" -m zipfile -e "$$wheel" "$$out/site"; \
		if ! ($(RUN_TEST_QUEUE) env PYTHONPATH="$$out/site" "$$run" -B $(1)) > "$$out/run.log" 2>&1; then \
			cat "$$out/run.log"; exit 1; \
		fi; \
		cat "$$out/run.log"; \
		summary="$$summary$$(tail -n 1 "$$out/run.log")"$$'\n'; \
	done; \
	echo; echo "$(3) summary:"; printf "%s" "$$summary"
endef

test-cpython-queue: wheels
	$(call run_cpython_suite,run_test_queue.py,,test_queue)

# CPython's own Lib/test/test_asyncio/test_queues.py against the async_q
# views of ringq's Queue, LifoQueue and PriorityQueue (see
# tests/python/cpython/run_test_asyncio_queues.py), the same way: every
# CPython with a release wheel, against that wheel, unpacked.
test-cpython-asyncio-queues: wheels
	$(call run_cpython_suite,run_test_asyncio_queues.py,asyncio-queues/,test_asyncio/test_queues)

# The peers of the process-queue, asyncio and RabbitMQ benchmarks (and uvloop, which
# the asyncio tests use when it is there), installed into the virtualenv.
# One that cannot be installed (no wheel for this platform, no network) is
# left out, and the benchmark says so.
PY_BENCH_PEERS := faster-fifo iceoryx2 janus culsans uvloop pika aio-pika
PY_PEERS_STAMP := $(PY_VENV)/.ringq-bench-peers

$(PY_PEERS_STAMP): $(PY_VENV_STAMP)
	for peer in $(PY_BENCH_PEERS); do \
		$(PY) -m pip install --quiet --disable-pip-version-check $$peer || \
			echo "bench-python: could not install $$peer; the benchmarks run without it"; \
	done
	touch $@

bench-python: build-python $(PY_PEERS_STAMP)
	cd $(ROOT) && $(PY) benches/python/bench_queues.py --out $(ROOT)/benches/results/python.png
	cd $(ROOT) && $(PY) benches/python/bench_lifo_priority.py
	cd $(ROOT) && $(PY) benches/python/bench_process.py --json $(ROOT)/benches/results/python_process.json
	cd $(ROOT) && $(PY) benches/python/bench_aio.py
	cd $(ROOT) && $(PY) benches/python/bench_process_aio.py
