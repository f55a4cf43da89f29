#!/bin/sh
# The error-line contract of `mvpmu run FILE`, over every file in the given
# directories: exit 0, 1 or 3 (a result, possibly partial), or exit 2 with
# exactly one line on stderr starting with FILE:LINE: and holding no raw
# control character.  Each run is capped (--max-steps) so none is long.
# Prints "contract: N passed, N failed".
# Usage: fuzz/check-contract.sh MVPMU DIR...
set -u
mvpmu=$1; shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0; fail=0
for d in "$@"; do
	[ -d "$d" ] || continue
	for f in $(find "$d" -type f | sort | head -3000); do
		timeout 20 "$mvpmu" run "$f" --max-steps 20000 --json >/dev/null 2>"$tmp/err"
		st=$?
		case $st in
		0|1|3) pass=$((pass + 1)); continue ;;
		2) ;;
		*) fail=$((fail + 1)); echo "FAIL: $f: exit status $st"; continue ;;
		esac
		if [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
		   grep -q "^$(printf '%s' "$f" | sed 's/[][\.*^$/]/\\&/g'):[1-9][0-9]*: " "$tmp/err" &&
		   ! LC_ALL=C tr -d '\n' <"$tmp/err" | LC_ALL=C grep -q '[[:cntrl:]]'; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1)); echo "FAIL: $f: broken error line:"; head -3 "$tmp/err" | cat -v
		fi
	done
done
echo "contract: $pass passed, $fail failed"
[ "$fail" = 0 ]
