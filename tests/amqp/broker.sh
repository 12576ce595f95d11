#!/usr/bin/env bash
# Starts and stops the RabbitMQ broker that the AMQP bridge's tests
# (core/tests/amqp_*.rs, `make test-amqp`) run against.
#
# usage: broker.sh start|stop
#
# start  installs Debian's rabbitmq-server when it is missing, starts a
#        detached node that listens on 127.0.0.1 only, and waits until
#        127.0.0.1:5672 answers. A node that already answers is left alone
#        and reused.
# stop   stops the node (rabbitmqctl stop), when one runs.
#
# The package's own service is kept from starting during the install (a
# policy-rc.d that refuses, as in containers) and stopped if it runs anyway,
# so that the one node is the detached one this script controls.
set -euo pipefail

sudo=
[ "$(id -u)" = 0 ] || sudo=sudo

# Every listener on the loopback interface: AMQP, the inter-node port and
# epmd, the Erlang port mapper.
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_DIST_PORT=25672
export ERL_EPMD_ADDRESS=127.0.0.1

wait_secs=${RINGQ_BROKER_WAIT:-60}

answers() {
	# bash's /dev/tcp: no netcat needed.
	(exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null
}

install() {
	command -v apt-get >/dev/null || {
		echo "broker.sh: rabbitmq-server is missing and there is no apt-get" >&2
		exit 1
	}
	echo "broker.sh: installing rabbitmq-server"
	local policy=/usr/sbin/policy-rc.d added=
	if [ ! -e $policy ]; then
		printf '#!/bin/sh\nexit 101\n' | $sudo tee $policy >/dev/null
		$sudo chmod 755 $policy
		added=1
	fi
	local rc=0
	{ $sudo apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq rabbitmq-server >/dev/null; } || rc=$?
	[ -z "$added" ] || $sudo rm -f $policy
	return $rc
}

start() {
	if answers; then
		echo "broker.sh: a broker already answers on 127.0.0.1:5672; using it"
		return 0
	fi
	command -v rabbitmq-server >/dev/null || [ -x /usr/sbin/rabbitmq-server ] || install
	export PATH=$PATH:/usr/sbin
	# A service node started by the package on a systemd machine.
	if command -v systemctl >/dev/null && systemctl is-active --quiet rabbitmq-server 2>/dev/null; then
		$sudo systemctl stop rabbitmq-server
	fi
	# The wrapper scripts drop to the rabbitmq user; sudo -E keeps the
	# listener settings above.
	local e=
	[ -z "$sudo" ] || e="$sudo -E"
	$e rabbitmq-server -detached
	local i
	for ((i = 0; i < wait_secs * 5; i++)); do
		if answers; then
			echo "broker.sh: broker up on 127.0.0.1:5672"
			return 0
		fi
		sleep 0.2
	done
	echo "broker.sh: no answer on 127.0.0.1:5672 after ${wait_secs}s" >&2
	exit 1
}

stop() {
	export PATH=$PATH:/usr/sbin
	command -v rabbitmqctl >/dev/null || return 0
	local e=
	[ -z "$sudo" ] || e="$sudo -E"
	if $e rabbitmqctl -q status >/dev/null 2>&1; then
		$e rabbitmqctl -q stop
		echo "broker.sh: broker stopped"
	fi
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
