#!/bin/sh
# Runs each libFuzzer harness for SECONDS on its seed corpus (fuzz/corpus/
# NAME) plus what earlier runs found (BUILD/corpus/NAME), then checks the
# error-line contract of the real command over every scenario input kept
# and every crash.  Fails on any crash, leak, sanitizer report, hang or
# broken contract.
# Usage: fuzz/run.sh BUILD SECONDS MVPMU
set -u
build=$1; secs=$2; mvpmu=$3
status=0
# libunicorn's own leak at uc_close (fuzz/lsan.supp); nothing of mvpmu's.
LSAN_OPTIONS=suppressions=$(pwd)/fuzz/lsan.supp:print_suppressions=0
export LSAN_OPTIONS
for h in scenario run image; do
	mkdir -p "$build/corpus/$h" "$build/crashes/$h"
	echo "fuzz: $h for ${secs}s"
	extra=""
	# Real-code inputs: instructions and operands in the dictionary, and
	# a few KiB of code is plenty.
	[ "$h" = image ] && extra="-dict=fuzz/image.dict -max_len=4096"
	# -timeout: an input that runs over 10 s is a hang, reported as a crash.
	# shellcheck disable=SC2086
	if ! "$build/fuzz_$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$build/crashes/$h/" $extra \
		"$build/corpus/$h" "fuzz/corpus/$h" >"$build/fuzz_$h.log" 2>&1; then
		echo "FAIL: fuzz_$h (see $build/fuzz_$h.log)"; tail -30 "$build/fuzz_$h.log"
		status=1
	fi
	grep -h '^stat::number_of_executed_units\|^stat::new_units_added' "$build/fuzz_$h.log" |
		sed "s/^/fuzz: $h /"
done
sh fuzz/check-contract.sh "$mvpmu" fuzz/corpus/scenario fuzz/corpus/run \
	"$build/corpus/scenario" "$build/corpus/run" "$build/crashes/scenario" "$build/crashes/run" ||
	status=1
exit $status
