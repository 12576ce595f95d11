# The RabbitMQ bridge's tests (ringq::amqp, the core's `amqp` feature)
# against a real broker. Included by the top-level Makefile, which provides
# CARGO, ROOT and RUST_TEST.
#
#   make test-amqp   starts a RabbitMQ broker on 127.0.0.1 (installing
#                    Debian's rabbitmq-server when missing), runs
#                    core/tests/amqp_*.rs, tests/python/test_amqp.py and
#                    the amqp_pool example against it, and stops it again,
#                    also when a test fails; part of make test
#   make bench-amqp  the same broker, for benches/benches/amqp.rs
#
# The tests inject faults with rabbitmqctl (closing every connection
# mid-stream), so they need a broker of their own: RINGQ_AMQP_URL points
# them elsewhere only for the connection; rabbitmqctl still talks to the
# local node.

.PHONY: test-amqp

AMQP_BROKER := $(ROOT)/tests/amqp/broker.sh
RINGQ_AMQP_URL ?= amqp://guest:guest@127.0.0.1:5672/%2f

# amqp_faults stops the broker application and raises a memory alarm, so it
# runs on its own, after the tests that run side by side.
# Release builds: the Python extension's build has compiled the same
# dependencies with the same features already.
test-amqp: build-python
	$(AMQP_BROKER) start
	rc=0; export PATH="$$PATH:/usr/sbin" RINGQ_AMQP_URL='$(RINGQ_AMQP_URL)'; \
	$(RUST_TEST) --release -p ringq --features amqp --test amqp_broker && \
	$(RUST_TEST) --release -p ringq --features amqp --test amqp_faults && \
	(cd $(ROOT) && timeout 600 $(PY) -m pytest -p no:cacheprovider -q tests/python/test_amqp.py) && \
	(cd $(ROOT) && $(PY) -m mypy --strict --no-incremental examples/python/amqp_pool.py) && \
	(cd $(ROOT) && timeout 300 $(PY) examples/python/amqp_pool.py --url '$(RINGQ_AMQP_URL)') \
		|| rc=$$?; \
	$(AMQP_BROKER) stop; exit $$rc

# ringq::amqp against lapin used directly (benches/benches/amqp.rs), and
# ringq.amqp against pika and aio-pika (benches/python/bench_amqp.py), on
# one broker: part of make bench.
.PHONY: bench-amqp
bench-amqp: build-python $(PY_PEERS_STAMP)
	$(AMQP_BROKER) start
	rc=0; RINGQ_AMQP_URL='$(RINGQ_AMQP_URL)' \
		$(CARGO) bench -p ringq-benches --features amqp --bench amqp && \
	(cd $(ROOT) && $(PY) benches/python/bench_amqp.py --url '$(RINGQ_AMQP_URL)') || rc=$$?; \
	$(AMQP_BROKER) stop; exit $$rc
