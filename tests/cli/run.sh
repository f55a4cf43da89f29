#!/bin/sh
# Command-line tests of mvpmu (POSIX sh): listings, usage errors, malformed
# scenario files; runs, JSON and traces once the runner is implemented.
# Usage: tests/cli/run.sh build/mvpmu
set -u
mvpmu=${1:-build/mvpmu}
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0; fail=0; skip=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# check WANT_STATUS NAME COMMAND...: runs COMMAND, keeps its output in
# $tmp/out and $tmp/err, and compares the exit status.
check() {
	want=$1; name=$2; shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" = "$want" ]; then
		ok; return 0
	fi
	bad "$name: exit status $got, expected $want"
	sed 's/^/    /' "$tmp/err" | head -5
	return 1
}

# The last command's stderr is exactly one line containing $2.
one_line_err() {
	if [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -qF -- "$2" "$tmp/err"; then
		ok
	else
		bad "$1: expected one stderr line with '$2', got:"
		sed 's/^/    /' "$tmp/err" | head -5
	fi
}

valid_json() {
	if python3 -m json.tool <"$2" >"$tmp/pretty" 2>"$tmp/jerr"; then
		ok
	else
		bad "$1: invalid JSON: $(head -1 "$tmp/jerr")"
	fi
}

has() {
	if grep -qF -- "$3" "$2"; then ok; else bad "$1: '$3' missing"; fi
}

# ---- listings ----

if check 0 "cpus" "$mvpmu" cpus; then
	[ "$(wc -l <"$tmp/out")" -eq 6 ] && ok || bad "cpus: expected 6 lines"
	for m in skylake icelake sapphirerapids zen3 zen4 zen5; do
		grep -q "^$m " "$tmp/out" && ok || bad "cpus: no line starting with $m"
	done
fi

if check 0 "scenarios" "$mvpmu" scenarios; then
	n=0
	for f in "$here"/../../scenarios/*.yaml; do
		s=$(basename "$f" .yaml); n=$((n + 1))
		grep -q "^$s  *[^ ]" "$tmp/out" && ok || bad "scenarios: $s not listed with a description"
	done
	[ "$(wc -l <"$tmp/out")" -eq "$n" ] && ok || bad "scenarios: expected $n lines"
fi

check 0 "--help" "$mvpmu" --help && has "--help" "$tmp/out" "mvpmu run"
check 0 "--version" "$mvpmu" --version && has "--version" "$tmp/out" "mvpmu "
check 0 "run --help" "$mvpmu" run --help

# ---- usage errors: status 2, one line on stderr ----

check 2 "no command" "$mvpmu"
check 2 "unknown command" "$mvpmu" frobnicate && one_line_err "unknown command" "frobnicate"
check 2 "unknown option" "$mvpmu" run --frobnicate && one_line_err "unknown option" "--frobnicate"
check 2 "missing value" "$mvpmu" run --cpu && one_line_err "missing value" "--cpu"
check 2 "bad --vpmu" "$mvpmu" run --vpmu full && one_line_err "bad --vpmu" "full"
check 2 "bad --seed" "$mvpmu" run --seed x1 && one_line_err "bad --seed" "x1"
check 2 "unknown cpu" "$mvpmu" run --cpu pentium4 && one_line_err "unknown cpu" "pentium4"
check 2 "unknown scenario" "$mvpmu" run no-such-scenario && one_line_err "unknown scenario" "no-such-scenario"
check 2 "two scenarios" "$mvpmu" run host-and-guest rr-ticks
check 2 "compare --trace" "$mvpmu" compare --trace "$tmp/t.json"
check 2 "compare unknown" "$mvpmu" compare no-such-scenario
check 2 "cpus extra" "$mvpmu" cpus extra

# ---- malformed scenario files: status 2, FILE:LINE on stderr ----

# bad_file NAME LINE FRAGMENT: the YAML comes on stdin.
bad_file() {
	cat >"$tmp/$1.yaml"
	if check 2 "file $1" "$mvpmu" run "$tmp/$1.yaml"; then
		one_line_err "file $1" "$tmp/$1.yaml:$2: expected $3"
	fi
}

printf 'name: x\npcpus: zero\n' | bad_file not-a-number 2 "an integer"
printf 'name: x\nvms:\n  - name: a\n    colour: red\n' | bad_file unknown-key 4 "a key of vm"
printf 'name: x\nhost: [a\n' | bad_file bad-yaml 3 "valid YAML"
printf 'vms:\n  - programs:\n      - {kind: record, events: [instructions]}\n' |
	bad_file record-no-period 3 "one of period or freq"
printf '' | bad_file empty 1 "a scenario mapping"
check 2 "missing file" "$mvpmu" run "$tmp/no-such-dir/x.yaml" &&
	one_line_err "missing file" "unknown scenario"

# ---- runs (need the runner) ----

"$mvpmu" run >"$tmp/out" 2>"$tmp/err"
if grep -q "not implemented yet" "$tmp/err"; then
	skip=$((skip + 1))
	echo "SKIP: runs, JSON reports and traces (mvpmu run: not implemented yet)"
else
	check 0 "run (default)" "$mvpmu" run && has "run" "$tmp/out" "Guest counters"
	for f in "$here"/../../scenarios/*.yaml; do
		s=$(basename "$f" .yaml)
		if check 0 "run $s --json" "$mvpmu" run "$s" --json; then
			cp "$tmp/out" "$tmp/$s.json"
			valid_json "run $s --json" "$tmp/$s.json"
			for k in '"cpu"' '"vpmu"' '"vpmu_effective"' '"seed"' '"guest"' \
				 '"counters"' '"pmis"' '"host"' '"vm_exits"' '"by_reason"' \
				 '"invariants"' '"checked"' '"violated"' '"violations"'; do
				has "run $s --json" "$tmp/$s.json" "$k"
			done
		fi
	done
	check 0 "run FILE" "$mvpmu" run "$here/../../scenarios/rr-ticks.yaml" --json &&
		valid_json "run FILE" "$tmp/out"
	for v in none emulated mediated; do
		check 0 "run --vpmu $v" "$mvpmu" run --vpmu "$v" --json &&
			has "run --vpmu $v" "$tmp/out" "\"vpmu\": \"$v\""
	done
	if check 0 "run --trace" "$mvpmu" run --seed 7 --trace "$tmp/t1.json"; then
		valid_json "trace" "$tmp/t1.json"
		for k in '"traceEvents"' '"displayTimeUnit"' '"ph": "B"' '"ph": "E"' \
			 '"ph": "i"' '"ph": "M"'; do
			has "trace" "$tmp/pretty" "$k"
		done
		check 0 "run --trace again" "$mvpmu" run --seed 7 --trace "$tmp/t2.json"
		cmp -s "$tmp/t1.json" "$tmp/t2.json" && ok || bad "trace: same seed, different trace"
	fi
	check 2 "unwritable trace" "$mvpmu" run --trace "$tmp/no-such-dir/t.json"
	check 0 "compare" "$mvpmu" compare && has "compare" "$tmp/out" "bare metal"
	check 0 "compare --json" "$mvpmu" compare --json && valid_json "compare --json" "$tmp/out"
fi

echo "cli: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
