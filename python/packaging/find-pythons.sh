#!/bin/sh
# Prints the interpreter of the newest patch release of each CPython from 3.9
# up that pyenv lists, one path a line, oldest first. Free-threaded, dev and
# other distributions' builds (3.13.0t, 3.14-dev, pypy3.10) are skipped.
# Prints nothing when pyenv is not installed.
set -eu
root=$(pyenv root 2>/dev/null) || exit 0
pyenv versions --bare --skip-aliases 2>/dev/null |
	grep -E '^3\.[0-9]+\.[0-9]+$' |
	sort -t. -k2,2n -k3,3n |
	awk -F. '$2 >= 9 { newest[$2] = $0 } END { for (m in newest) print m, newest[m] }' |
	sort -n |
	while read -r minor version; do
		python="$root/versions/$version/bin/python3.$minor"
		if [ -x "$python" ]; then echo "$python"; fi
	done
