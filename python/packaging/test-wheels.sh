#!/usr/bin/env bash
# Tests the wheels in DIST the way a user gets them: each is installed into a
# fresh virtualenv of its own interpreter, with cargo and rustc off PATH (so
# nothing can be compiled), and the Python test suite runs against the
# installed package, never the source tree.
#
# usage: test-wheels.sh DIST VENVS TESTS PYTHON...
#   DIST    the directory holding the wheels
#   VENVS   where the throwaway virtualenvs go (emptied first)
#   TESTS   the Python test suite (tests/python)
#   PYTHON  one interpreter per wheel to test, oldest first
#
# The oldest and the newest interpreter run the whole suite. Those in
# between skip the files named in $WHEEL_SLOW_TESTS (the many-thread, fork
# and signal runs, which take seconds each and are covered at both ends of
# the range), so any new test file runs on every version.
set -euo pipefail

dist=$(realpath "$1")
venvs=$2
tests=$(realpath "$3")
shift 3
[ $# -gt 0 ] || { echo "test-wheels: no interpreters given" >&2; exit 1; }
oldest=$1
newest=${!#}
slow=${WHEEL_SLOW_TESTS:-test_fork.py test_fork_lifo_priority.py test_signals.py test_stress.py test_aio_interrupts.py test_process_aio.py}

# PATH without any directory that holds cargo or rustc.
no_rust_path=
IFS=: read -ra dirs <<<"$PATH"
for dir in "${dirs[@]}"; do
	[ -e "$dir/cargo" ] || [ -e "$dir/rustc" ] || no_rust_path=$no_rust_path${no_rust_path:+:}$dir
done

rm -rf "$venvs"
mkdir -p "$venvs"
venvs=$(realpath "$venvs")

# One interpreter's run: its wheel in a fresh venv, then the suite.
test_one() {
	local python=$1
	tag=$("$python" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
	wheels=("$dist"/ringq-*-"$tag"-"$tag"-*.whl)
	if [ ${#wheels[@]} -ne 1 ] || [ ! -f "${wheels[0]}" ]; then
		echo "test-wheels: expected one $tag wheel in $dist, found: ${wheels[*]}" >&2
		exit 1
	fi
	venv=$venvs/$tag
	"$python" -m venv "$venv"
	selection=("$tests")
	scope="the whole suite"
	if [ "$python" != "$oldest" ] && [ "$python" != "$newest" ]; then
		for file in $slow; do selection+=("--ignore=$tests/$file"); done
		scope="the suite without $slow"
	fi
	echo "test-wheels: $tag: ${wheels[0]##*/}, $scope"
	# Run from inside the venv, isolated (-I: no current directory or
	# PYTHONPATH on sys.path), with Rust gone and ringq imported before
	# pytest starts, so every test sees the installed module.
	(
		cd "$venv"
		unset CARGO_HOME RUSTUP_HOME RUSTC CARGO CARGO_TARGET_DIR PYTHONPATH
		export PATH=$venv/bin:$no_rust_path
		if command -v cargo >/dev/null || command -v rustc >/dev/null; then
			echo "test-wheels: cargo or rustc still on PATH" >&2
			exit 1
		fi
		bin/python -I -m pip install --quiet --disable-pip-version-check --only-binary :all: pytest
		# --no-index: the wheel itself, never a source build of it.
		bin/python -I -m pip install --quiet --disable-pip-version-check --no-index --no-deps "${wheels[0]}"
		timeout 900 bin/python -I -c '
import os, sys
import ringq, ringq._ringq
import pytest

venv = os.path.realpath(sys.prefix) + os.sep
for module in (ringq, ringq._ringq):
    where = os.path.realpath(module.__file__)
    assert where.startswith(venv), f"{module.__name__} comes from {where}, not {venv}"
print(f"test-wheels: Python {sys.version.split()[0]}: ringq {ringq.__version__} from {ringq._ringq.__file__}")
tests, *selection = sys.argv[1:]
sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "--rootdir", tests, "-c", os.path.join(tests, "pytest.ini"), *selection]))
' "$tests" "${selection[@]}"
	)
}

# Two interpreters at a time: a suite runs its tests one after another,
# mostly on one core, and the machine has two. Each run's output is kept
# and printed whole, in order, once it is done.
logs=()
i=0
for python in "$@"; do
	log=$venvs/run-$i.log
	logs+=("$log")
	# errexit holds in the subshell: a failure stops it before the mark.
	(
		test_one "$python"
		echo 0 >"$log.rc"
	) >"$log" 2>&1 &
	i=$((i + 1))
	while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n || true; done
done
wait
failed=0
for log in "${logs[@]}"; do
	cat "$log"
	[ "$(cat "$log.rc" 2>/dev/null)" = 0 ] || failed=$((failed + 1))
done
if [ "$failed" -gt 0 ]; then
	echo "test-wheels: $failed of $# wheel(s) failed" >&2
	exit 1
fi
echo "test-wheels: $# wheel(s) passed"
