#!/bin/sh
# Runs every cmocka test binary under $1/tests, then the command-line
# scenario tests, and prints one closing line "N passed, N failed".
set -u
build=${1:-build}
pass=0; fail=0
for t in $(find "$build/tests" -type f -perm -u+x | sort); do
	if "$t" >"$t.log" 2>&1; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1)); echo "FAIL: $t"; tail -30 "$t.log"
	fi
done
if [ -x tests/cli/run.sh ]; then
	if sh tests/cli/run.sh "$build/mvpmu" >"$build/cli-tests.log" 2>&1; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1)); echo "FAIL: tests/cli/run.sh"; tail -30 "$build/cli-tests.log"
	fi
fi
grep -h '^\[  PASSED  \]\|^\[  FAILED  \]' $(find "$build/tests" -name '*.log') 2>/dev/null \
	| awk '{n[$2]+=$4} END {printf "cmocka cases: %d passed, %d failed\n", n["PASSED"], n["FAILED"]}'
echo "$build: $pass passed, $fail failed"
[ "$fail" = 0 ]
