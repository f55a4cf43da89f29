#!/bin/sh
# Command-line tests of mvpmu (POSIX sh): listings, usage errors, malformed
# scenario files; runs, JSON and traces once the runner is implemented.
# Usage: tests/cli/run.sh build/mvpmu
set -u
mvpmu=${1:-build/mvpmu}
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0; fail=0

ok() { pass=$((pass + 1)); }
# MVPMU_FAIL_FAST (make mutants): stop at the first failure.
bad() {
	fail=$((fail + 1)); echo "FAIL: $*"
	[ -z "${MVPMU_FAIL_FAST:-}" ] || exit 1
}

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

# bad_file NAME LINE FRAGMENT YAML: YAML (a printf format) is written to a
# file, which must be refused.  (Not fed through a pipe: a function at the
# end of a pipeline may run in a subshell and lose the pass/fail counts.)
bad_file() {
	printf "$4" >"$tmp/$1.yaml"
	if check 2 "file $1" "$mvpmu" run "$tmp/$1.yaml"; then
		one_line_err "file $1" "$tmp/$1.yaml:$2: expected $3"
	fi
}

bad_file not-a-number 2 "an integer" 'name: x\npcpus: zero\n'
bad_file unknown-key 4 "a key of vm" 'name: x\nvms:\n  - name: a\n    colour: red\n'
bad_file bad-yaml 3 "valid YAML" 'name: x\nhost: [a\n'
bad_file record-no-period 3 "one of period or freq" 'vms:\n  - programs:\n      - {kind: record, events: [instructions]}\n'
bad_file empty 1 "a scenario mapping" ''
bad_file unknown-top-key 2 "a key of scenario" 'name: x\nfrob: 1\n'
bad_file wrong-type 2 "a list of vms" 'name: x\nvms: 3\n'
bad_file not-a-bool 3 "true or false" 'name: x\nhost:\n  system_wide: maybe\n'
bad_file pcpus-range 2 "pcpus from 1 to 8" 'name: x\npcpus: 9\n'
bad_file vcpus-range 3 "vcpus from 1 to 4" 'name: x\nvms:\n  - vcpus: 5\n'
bad_file bad-kind 4 "a program kind" 'name: x\nvms:\n  - programs:\n      - kind: quantum\n'
bad_file twice 2 "'name' once" 'name: x\nname: y\n'
# The CPU model is checked when the run starts; the error must still name
# the file and the line of cpu: (docs/scenarios.md "Errors", issue 6).
bad_file unknown-cpu 2 "a CPU model" 'name: x\ncpu: pentium4\n'
check 2 "missing file" "$mvpmu" run "$tmp/no-such-dir/x.yaml" &&
	one_line_err "missing file" "unknown scenario"

# ---- issue 14: hostile input gets exactly one clean line naming FILE:LINE ----

# clean_err NAME: stderr holds no control character but the final newline.
clean_err() {
	if LC_ALL=C tr -d '\n' <"$tmp/err" | LC_ALL=C grep -q '[[:cntrl:]]'; then
		bad "$1: raw control characters on stderr"
	else
		ok
	fi
}
bad_file second-doc 2 "one YAML document" 'name: x\n---\nname: y\n'
bad_file hex-twice 1 "an integer (decimal or 0x hex), got '0x0x2'" 'seed: 0x0x2\n'
bad_file nul-escape 1 "text without NUL" 'name: "a\\0b"\n'
bad_file tag 1 "no YAML tags" 'name: !!str a\n'
bad_file utf8 2 "valid UTF-8 text" 'name: x\ndescription: \377\n'
bad_file ctrl-key 2 "text without NUL or control characters, got 'a\\x1b[2J'" 'name: x\n"a\\e[2J": 1\n'
bad_file bad-event 3 "a perf event" 'host:\n  events:\n    - frob\n'
bad_file freq 3 "freq from 1 to 100000" 'vms:\n  - programs:\n      - {kind: record, events: [cycles], freq: 1000000000}\n'
bad_file overflow 3 "at most 2^62 instructions" 'host:\n  work:\n    passes: 4\n    segments: [{label: a, instructions: 0x2000000000000000}]\n'
bad_file filter 4 "a filter KVM_SET_PMU_EVENT_FILTER accepts" 'vpmu: emulated\nvms:\n  - programs: [{kind: idle}]\n    filter: {action: deny, flags: 2}\n'
bad_file cpu-esc 1 "text without NUL or control characters, got 'p\\x1b[31m'" 'cpu: "p\\e[31m"\n'
clean_err "cpu-esc"
awk 'BEGIN { printf "name: "; for (i = 0; i < 50000; i++) printf "["; for (i = 0; i < 50000; i++) printf "]"; print "" }' >"$tmp/deep.yaml"
check 2 "deep nesting" "$mvpmu" run "$tmp/deep.yaml" &&
	one_line_err "deep nesting" "$tmp/deep.yaml:1: expected at most 16 levels of nesting"
awk 'BEGIN { print "name: x"; for (i = 0; i < 20000; i++) printf "# %060d\n", i }' >"$tmp/big.yaml"
check 2 "over 1 MiB" "$mvpmu" run "$tmp/big.yaml" &&
	one_line_err "over 1 MiB" "$tmp/big.yaml:16645: expected at most 1048576 bytes (1 MiB)"
mkfifo "$tmp/fifo.yaml"
check 2 "FIFO" "$mvpmu" run "$tmp/fifo.yaml" &&
	one_line_err "FIFO" "$tmp/fifo.yaml:1: expected a regular file, got a FIFO"
check 2 "/dev/zero" "$mvpmu" run /dev/zero &&
	one_line_err "/dev/zero" "/dev/zero:1: expected a regular file, got a character device"
mkdir "$tmp/dir.yaml"
check 2 "directory" "$mvpmu" run "$tmp/dir.yaml" &&
	one_line_err "directory" "$tmp/dir.yaml:1: expected a regular file, got a directory"
# (1 MiB = 8 bytes of line 1 + 16643 lines of 63 bytes + 53 bytes of line 16645.)
# A long path (about 3000 bytes) with a newline and an escape in it: the
# message is whole and on one line.
long="$tmp"
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	long="$long/$(printf 'd%0200d' "$i")"
done
long="$long/$(printf 'a\nb\033c')"
mkdir -p "$long" && printf 'name: x\npcpus: 0\n' >"$long/x.yaml"
check 2 "long path" "$mvpmu" run "$long/x.yaml" &&
	one_line_err "long path" "a\\x0ab\\x1bc/x.yaml:2: expected pcpus from 1 to 8, got '0'"
clean_err "long path"
check 2 "escaped arg" "$mvpmu" run "$(printf 'x\033[2J')" &&
	one_line_err "escaped arg" "unknown scenario 'x\\x1b[2J'"
clean_err "escaped arg"
check 2 "escaped option" "$mvpmu" run --cpu "$(printf 'p\033')" &&
	one_line_err "escaped option" "'p\\x1b'"
clean_err "escaped option"

# ---- runs ----

# jcheck NAME CHECK FILE...: tests/cli/check_results.py CHECK on the files.
jcheck() {
	name=$1; shift
	if python3 "$here/check_results.py" "$@" >"$tmp/jerr" 2>&1; then
		ok
	else
		bad "$name:"
		sed 's/^/    /' "$tmp/jerr" | head -8
	fi
}

# runj NAME OUT ARGS...: mvpmu run ARGS --json into OUT, status 0, valid JSON.
runj() {
	name=$1; out=$2; shift 2
	if check 0 "$name" "$mvpmu" run "$@" --json; then
		cp "$tmp/out" "$out"
		valid_json "$name" "$out"
		return 0
	fi
	return 1
}

check 0 "run (default)" "$mvpmu" run && has "run" "$tmp/out" "Guest counters"

# Issue 6: every built-in listed (at least those of the issues), each runs
# with --json and status 0 under its own CPU and on zen4.
"$mvpmu" scenarios >"$tmp/list" 2>/dev/null
for s in host-and-guest host-multiplex contention filter-deny \
	 emulated-instructions rr-ticks record-labels rfc-sampling-basic \
	 rfc-sampling-mux; do
	grep -q "^$s " "$tmp/list" && ok || bad "scenarios: $s not listed"
done
for s in $(awk '{print $1}' "$tmp/list"); do
	for c in "" zen4; do
		if [ -n "$c" ]; then set -- --cpu "$c"; else set --; fi
		if runj "run $s $*" "$tmp/$s$c.json" "$s" "$@"; then
			for k in '"cpu"' '"vpmu"' '"vpmu_effective"' '"seed"' '"guest"' \
				 '"counters"' '"pmis"' '"host"' '"vm_exits"' '"by_reason"' \
				 '"invariants"' '"checked"' '"violated"' '"violations"'; do
				has "run $s --json" "$tmp/$s$c.json" "$k"
			done
		fi
	done
done
check 0 "run FILE" "$mvpmu" run "$here/../../scenarios/rr-ticks.yaml" --json &&
	valid_json "run FILE" "$tmp/out"
for v in none emulated mediated; do
	check 0 "run --vpmu $v" "$mvpmu" run --vpmu "$v" --json &&
		has "run --vpmu $v" "$tmp/out" "\"vpmu\": \"$v\""
done

# Issue 2: bare metal counts exactly on every model.
for m in $("$mvpmu" cpus | awk '{print $1}'); do
	runj "run --cpu $m --vpmu none" "$tmp/r.json" --cpu "$m" --vpmu none &&
		jcheck "issue 2: --cpu $m --vpmu none exact" exact "$tmp/r.json"
done

for m in skylake zen4; do
	# Issue 3: host multiplexing scaled within 1% of the truth.
	runj "host-multiplex --cpu $m" "$tmp/r.json" host-multiplex --cpu "$m" &&
		jcheck "issue 3: host-multiplex on $m" multiplex "$tmp/r.json"
	# Issue 4: the emulated vPMU.
	runj "emulated --cpu $m" "$tmp/r.json" --cpu "$m" --vpmu emulated &&
		jcheck "issue 4: --vpmu emulated on $m" emulated "$tmp/r.json"
	runj "contention --cpu $m" "$tmp/r.json" contention --cpu "$m" --vpmu emulated &&
		jcheck "issue 4: contention on $m" below "$tmp/r.json" &&
		jcheck "issue 9: pinned legacy events on $m" pinned_error "$tmp/r.json" 1
	runj "filter-deny --cpu $m" "$tmp/r.json" filter-deny --cpu "$m" --vpmu emulated &&
		jcheck "issue 4: filter-deny on $m" filter "$tmp/r.json"
done

# Issue 5: the mediated vPMU, exact with fewer exits than emulated; zen3
# falls back with a reason.
for m in sapphirerapids skylake zen4; do
	runj "mediated --cpu $m" "$tmp/med.json" --cpu "$m" --vpmu mediated &&
	runj "emulated --cpu $m" "$tmp/emu.json" --cpu "$m" --vpmu emulated &&
		jcheck "issue 5: --vpmu mediated on $m" mediated "$tmp/med.json" "$tmp/emu.json"
	runj "emulated-instructions --cpu $m" "$tmp/r.json" emulated-instructions \
		--cpu "$m" --vpmu mediated &&
		jcheck "issue 5: emulated-instructions on $m" exact "$tmp/r.json"
done
runj "mediated --cpu zen3" "$tmp/r.json" --cpu zen3 --vpmu mediated &&
	jcheck "issue 5: zen3 falls back" fallback "$tmp/r.json" &&
	has "issue 9: zen3 reason" "$tmp/r.json" "PerfMonV2"
runj "emulated-instructions --cpu zen3" "$tmp/r.json" emulated-instructions --cpu zen3 &&
	jcheck "issue 5: emulated-instructions on zen3" exact "$tmp/r.json"

# Issue 6: sampling per label, rr ticks, traces, determinism, comparison.
for m in skylake zen4; do
	runj "record-labels --cpu $m" "$tmp/r.json" record-labels --cpu "$m" --vpmu mediated &&
		jcheck "issue 6: record-labels shares on $m" labels "$tmp/r.json"
	runj "rr-ticks --cpu $m" "$tmp/r.json" rr-ticks --cpu "$m" --vpmu mediated &&
		jcheck "issue 6: rr-ticks exact on $m" rr "$tmp/r.json"
done
for s in host-and-guest:mediated host-and-guest:emulated rr-ticks:mediated \
	 emulated-instructions:mediated; do
	v=${s#*:}; s=${s%:*}
	if runj "trace $s $v" "$tmp/r1.json" "$s" --vpmu "$v" --seed 7 --trace "$tmp/t1.json"; then
		valid_json "trace $s $v" "$tmp/t1.json"
		jcheck "trace $s $v kinds" trace "$tmp/t1.json" "$tmp/r1.json"
		runj "trace $s $v again" "$tmp/r2.json" "$s" --vpmu "$v" --seed 7 --trace "$tmp/t2.json"
		cmp -s "$tmp/t1.json" "$tmp/t2.json" && ok || bad "trace $s $v: same seed, different trace"
		cmp -s "$tmp/r1.json" "$tmp/r2.json" && ok || bad "trace $s $v: same seed, different --json"
	fi
done
if check 0 "run --trace" "$mvpmu" run --seed 7 --trace "$tmp/t1.json"; then
	valid_json "trace" "$tmp/t1.json"
	for k in '"traceEvents"' '"displayTimeUnit"' '"ph": "B"' '"ph": "E"' \
		 '"ph": "i"' '"ph": "M"' '"ph": "C"'; do
		has "trace" "$tmp/pretty" "$k"
	done
fi
# A different seed may differ, but it must run and still be exact.
for seed in 2 0x2a; do
	runj "seed $seed" "$tmp/r.json" rfc-sampling-mux --seed "$seed" &&
		has "seed $seed" "$tmp/r.json" "\"seed\": $(printf '%d' "$seed")"
done
check 2 "unwritable trace" "$mvpmu" run --trace "$tmp/no-such-dir/t.json"

# Issue 14: --seed reads numbers as files do (010 is ten, not eight).
runj "seed 010" "$tmp/r.json" rr-ticks --seed 010 && has "seed 010" "$tmp/r.json" '"seed": 10,'
check 2 "seed 0x0x2" "$mvpmu" run --seed 0x0x2 && one_line_err "seed 0x0x2" "0x0x2"
check 2 "seed 2^64" "$mvpmu" run --seed 18446744073709551616
# A seed above 2^63 is reported exactly and reproduces its run.
if runj "seed 2^64-1" "$tmp/r1.json" rr-ticks --seed 0xffffffffffffffff; then
	s1=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["seed"], d["trace_hash"])' "$tmp/r1.json")
	[ "${s1% *}" = 18446744073709551615 ] && ok || bad "seed 2^64-1 reported as ${s1% *}"
	runj "seed replay" "$tmp/r2.json" rr-ticks --seed "${s1% *}" &&
		cmp -s "$tmp/r1.json" "$tmp/r2.json" && ok || bad "seed 2^64-1: the reported seed does not reproduce the run"
fi

# Issue 14: a failed write to stdout is exit 4 with one line.
# status_to WANT NAME OUT COMMAND...: COMMAND with stdout to OUT.
status_to() {
	want=$1; name=$2; to=$3; shift 3
	"$@" >"$to" 2>"$tmp/err"
	got=$?
	[ "$got" = "$want" ] && ok || bad "$name: exit status $got, expected $want"
}
status_to 4 "stdout full" /dev/full "$mvpmu" run rr-ticks --json &&
	one_line_err "stdout full" "cannot write to standard output: No space left on device"
status_to 4 "stdout full (text)" /dev/full "$mvpmu" scenarios
# A reader that is gone before the report is written (the read end is
# closed before mvpmu starts, so the write must fail with EPIPE).
ERR="$tmp/err" ST="$tmp/st" python3 -c '
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
st = subprocess.call(sys.argv[1:], stdout=w, stderr=open(os.environ["ERR"], "w"))
open(os.environ["ST"], "w").write("%d" % st)
' "$mvpmu" run rr-ticks
[ "$(cat "$tmp/st")" = 4 ] && ok || bad "closed pipe: exit $(cat "$tmp/st"), expected 4"
one_line_err "closed pipe" "cannot write to standard output: Broken pipe"

# Issue 14: the budget stops a run with a partial report and exit 3.
check 3 "max-cycles" "$mvpmu" run rr-ticks --max-cycles 1000000 &&
	has "max-cycles text" "$tmp/out" "PARTIAL: the run reached max_cycles 1000000"
if check 3 "max-insns --json" "$mvpmu" run rr-ticks --max-insns 100000 --json; then
	valid_json "max-insns --json" "$tmp/out"
	has "max-insns --json" "$tmp/out" '"partial": true'
	has "max-insns --json" "$tmp/out" '"max_insns": 100000'
	one_line_err "max-insns --json" "partial result: reached max_insns 100000"
fi
check 3 "max-steps" "$mvpmu" run --max-steps 10
check 2 "max-cycles 0" "$mvpmu" run --max-cycles 0
check 2 "max-cycles x" "$mvpmu" run --max-cycles 1e9
check 0 "not partial" "$mvpmu" run rr-ticks --json && has "not partial" "$tmp/out" '"partial": false'
check 3 "compare partial" "$mvpmu" compare rr-ticks --max-cycles 1000000
# Progress: never on a stderr that is not a terminal, unless --progress.
check 0 "no progress" "$mvpmu" run rfc-sampling-mux
[ -s "$tmp/err" ] && bad "progress shown on a non-terminal stderr" || ok
check 0 "--progress" "$mvpmu" run rfc-sampling-mux --progress --json
has "--progress" "$tmp/err" "cycles/s"
valid_json "--progress keeps stdout clean" "$tmp/out"
if check 0 "compare" "$mvpmu" compare host-and-guest; then
	for k in "bare metal" emulated mediated "VM exits" "overhead vs bare metal"; do
		has "compare" "$tmp/out" "$k"
	done
fi
check 0 "compare --json" "$mvpmu" compare host-and-guest --json &&
	valid_json "compare --json" "$tmp/out" &&
	jcheck "compare --json runs" compare "$tmp/out"

# A filter KVM would refuse is bad input on bare metal too (no VM runs there).
bad_file bare-bad-filter 5 "a filter KVM_SET_PMU_EVENT_FILTER accepts" \
	'name: x\nvpmu: none\nvms:\n  - name: a\n    filter: {action: 0, flags: 2}\n'

# ---- issue 10: --trace streams, checks its path first, says when it failed ----

cp "$here/../../scenarios/rr-ticks.yaml" "$tmp/sc.yaml"
ln -s "$tmp/sc.yaml" "$tmp/sc-link.yaml"
ln "$tmp/sc.yaml" "$tmp/sc-hard.yaml"
for t in "$tmp/sc.yaml" "$tmp/sc-link.yaml" "$tmp/sc-hard.yaml"; do
	check 2 "trace onto the scenario ($t)" "$mvpmu" run "$tmp/sc.yaml" --trace "$t" &&
		one_line_err "trace onto the scenario" "refusing to overwrite"
done
cmp -s "$tmp/sc.yaml" "$here/../../scenarios/rr-ticks.yaml" && ok || bad "the scenario file was changed"
check 2 "trace into a directory" "$mvpmu" run --trace "$tmp" && one_line_err "trace dir" "Is a directory"
check 2 "trace in a missing dir" "$mvpmu" run --trace "$tmp/no-such-dir/t.json" &&
	one_line_err "trace missing dir" "No such file or directory"
# The path is checked before the run: nothing of the run is printed.
[ ! -s "$tmp/out" ] && ok || bad "trace path error: the run went ahead"
check 2 "--json --trace -" "$mvpmu" run --json --trace - &&
	one_line_err "--json --trace -" "cannot both go to standard output"
"$mvpmu" run --json --trace "$tmp/same.json" >"$tmp/same.json" 2>"$tmp/err"
[ $? = 2 ] && ok || bad "--json with --trace to the file stdout goes to: not refused"
# --trace - puts the trace on stdout and the report on stderr.
if "$mvpmu" run rr-ticks --seed 7 --trace - >"$tmp/t-stdout.json" 2>"$tmp/err"; then
	ok
	"$mvpmu" run rr-ticks --seed 7 --trace "$tmp/t-file.json" >/dev/null 2>&1
	cmp -s "$tmp/t-stdout.json" "$tmp/t-file.json" && ok || bad "--trace - differs from --trace FILE"
	has "--trace - report" "$tmp/err" "Guest counters"
else
	bad "--trace -: exit status $?"
fi
# A write that fails during the run: reported, status 4, the report still printed.
if [ -w /dev/full ]; then
	check 4 "trace to /dev/full" "$mvpmu" run --trace /dev/full &&
		one_line_err "trace to /dev/full" "trace incomplete" &&
		has "trace to /dev/full" "$tmp/out" "Guest counters"
fi

# ---- issue 10: explore --jobs, --shard and merge ----

exp="explore host-and-guest --cpu zen4 --inject 2000 --seeds 30"
check 1 "explore --jobs 1" $mvpmu $exp --jobs 1 && cp "$tmp/out" "$tmp/ex1"
check 1 "explore --jobs 2" $mvpmu $exp --jobs 2 && cp "$tmp/out" "$tmp/ex2"
check 1 "explore --jobs 5" $mvpmu $exp --jobs 5 && cp "$tmp/out" "$tmp/ex5"
cmp -s "$tmp/ex1" "$tmp/ex2" && ok || bad "explore --jobs 2 differs from --jobs 1"
cmp -s "$tmp/ex1" "$tmp/ex5" && ok || bad "explore --jobs 5 differs from --jobs 1"
grep -q "seed(s) broke an invariant" "$tmp/ex1" && grep -q "^seed [0-9]*: " "$tmp/ex1" && ok ||
	bad "explore: no bad seed in the test campaign"
for k in 1 2 3; do
	"$mvpmu" $exp --shard $k/3 --jobs 2 >"$tmp/shard$k.json" 2>/dev/null
	[ $? -le 1 ] && ok || bad "explore --shard $k/3 failed"
	valid_json "shard $k/3" "$tmp/shard$k.json"
done
check 1 "merge 3 shards" "$mvpmu" merge "$tmp/shard3.json" "$tmp/shard1.json" "$tmp/shard2.json" &&
	{ cmp -s "$tmp/out" "$tmp/ex1" && ok || bad "merged shards differ from the whole campaign"; }
"$mvpmu" $exp --json >"$tmp/whole.json" 2>/dev/null
"$mvpmu" merge --json "$tmp/shard1.json" "$tmp/shard2.json" "$tmp/shard3.json" >"$tmp/merged.json" 2>/dev/null
cmp -s "$tmp/whole.json" "$tmp/merged.json" && ok || bad "merge --json differs from explore --json"
check 2 "merge, a shard missing" "$mvpmu" merge "$tmp/shard1.json" "$tmp/shard3.json" &&
	one_line_err "merge missing" "shard 2/3 is missing"
check 2 "merge, a shard twice" "$mvpmu" merge "$tmp/shard1.json" "$tmp/shard1.json" "$tmp/shard2.json" &&
	one_line_err "merge twice" "given twice"
"$mvpmu" explore host-and-guest --cpu zen5 --inject 2000 --seeds 30 --shard 2/3 >"$tmp/other.json" 2>/dev/null
check 2 "merge, another campaign" "$mvpmu" merge "$tmp/shard1.json" "$tmp/other.json" "$tmp/shard3.json" &&
	one_line_err "merge other" "another campaign"
"$mvpmu" $exp --shard 2/3 --patch fixed-counter-3 >"$tmp/other.json" 2>/dev/null
check 2 "merge, a shard with a patch" "$mvpmu" merge "$tmp/shard1.json" "$tmp/other.json" "$tmp/shard3.json" &&
	one_line_err "merge patched" "another campaign"
printf '{"campaign": ' >"$tmp/broken.json"
check 2 "merge, broken JSON" "$mvpmu" merge "$tmp/broken.json" && one_line_err "merge broken" "$tmp/broken.json:"
check 2 "merge, no file" "$mvpmu" merge
for b in 0/3 4/3 3 1/0 a/b 1/3x; do
	check 2 "--shard $b" "$mvpmu" explore --shard "$b" && one_line_err "--shard $b" "expected --shard"
done
check 2 "--jobs 0" "$mvpmu" explore --jobs 0 && one_line_err "--jobs 0" "expected --jobs"
check 2 "run --jobs" "$mvpmu" run --jobs 2

# ---- Issue 9: what a Linux 7.0 host does ----

# The guest PMU shape as 7.0 caps it (v2, <= 3 fixed) and the intercepts
# that follow: perf reports 4 fixed counters on Ice Lake and Sapphire
# Rapids, so GLOBAL_CTRL/STATUS/OVF_CTRL and RDPMC stay intercepted there;
# skylake (3 fixed) passes them through.
for m in sapphirerapids:8:3:false icelake:8:3:false skylake:4:3:true; do
	c=${m%%:*}; r=${m#*:}; gp=${r%%:*}; r=${r#*:}; fx=${r%%:*}; pt=${r#*:}
	if runj "issue 9: --cpu $c --vpmu mediated" "$tmp/r.json" --cpu "$c" --vpmu mediated; then
		jcheck "issue 9: shape on $c" pmu_shape "$tmp/r.json" 2 "$gp" "$fx"
		jcheck "issue 9: intercepts on $c" intercepts "$tmp/r.json" "$pt" "$pt"
		jcheck "issue 9: kernel on $c" kernel "$tmp/r.json"
	fi
	runj "issue 9: --cpu $c --vpmu emulated" "$tmp/r.json" --cpu "$c" --vpmu emulated &&
		jcheck "issue 9: emulated shape on $c" pmu_shape "$tmp/r.json" 2 "$gp" "$fx"
done
# The Feb 2026 proposal: fixed counter 3, and the global MSRs pass through.
for c in sapphirerapids icelake; do
	if runj "issue 9: --patch fixed-counter-3 on $c" "$tmp/r.json" --cpu "$c" --vpmu mediated \
		--patch fixed-counter-3; then
		jcheck "issue 9: fixed-counter-3 shape on $c" pmu_shape "$tmp/r.json" 2 8 4
		jcheck "issue 9: fixed-counter-3 intercepts on $c" intercepts "$tmp/r.json" true true
		jcheck "issue 9: fixed-counter-3 named" kernel "$tmp/r.json" fixed-counter-3
	fi
	# The legacy vPMU keeps 3 fixed counters with it.
	runj "issue 9: --patch fixed-counter-3 emulated on $c" "$tmp/r.json" --cpu "$c" \
		--vpmu emulated --patch fixed-counter-3 &&
		jcheck "issue 9: fixed-counter-3 emulated shape on $c" pmu_shape "$tmp/r.json" 2 8 3
done
runj "issue 9: both patches" "$tmp/r.json" --cpu zen4 --patch nested-amd-host-guest-only \
	--patch fixed-counter-3 --patch fixed-counter-3 &&
	jcheck "issue 9: both patches named" kernel "$tmp/r.json" fixed-counter-3 nested-amd-host-guest-only
check 2 "issue 9: unknown --patch" "$mvpmu" run --patch fixed-counter-4 &&
	one_line_err "issue 9: unknown --patch" "fixed-counter-4"
check 2 "issue 9: --patch without value" "$mvpmu" run --patch
# EBUSY: perf holds guest-including events; the VM is not created, the
# host's counts are reported, exit 0.
for c in "" zen4; do
	if [ -n "$c" ]; then set -- --cpu "$c"; else set --; fi
	runj "issue 9: contention --vpmu mediated $*" "$tmp/r.json" contention --vpmu mediated "$@" &&
		jcheck "issue 9: EBUSY $*" ebusy "$tmp/r.json"
done
check 0 "issue 9: EBUSY text" "$mvpmu" run contention --vpmu mediated &&
	has "issue 9: EBUSY text" "$tmp/out" "Failed to enable mediated vPMU" &&
	has "issue 9: EBUSY text" "$tmp/out" "not created"

# One vPMU for the whole host: VMs asking for different vPMUs are an error
# naming the line; per-VM only, both agreeing, and --vpmu all run as asked.
bad_file mixed-vpmu 6 "vpmu: emulated, as VM a asks" \
	'name: x\nvms:\n  - name: a\n    vpmu: emulated\n  - name: b\n    vpmu: mediated\n'
bad_file top-vs-vm 5 "vpmu: mediated, as the top-level vpmu: says" \
	'name: x\nvpmu: mediated\nvms:\n  - name: a\n    vpmu: emulated\n'
bad_file kvm-vs-vpmu 3 "vpmu: mediated, as kvm: enable_mediated_pmu: true says" \
	'name: x\nkvm: {enable_mediated_pmu: true}\nvpmu: emulated\nvms: [{name: a}]\n'
bad_file bare-two-vms 3 "one VM with one vCPU, or a bare: program" \
	'name: x\nvms:\n  - {name: a, vpmu: none}\n  - {name: b}\n'
bad_file bare-two-vcpus 3 "one VM with one vCPU" 'vpmu: none\nvms:\n  - {name: a, vcpus: 2}\n'
bad_file unknown-patch 1 "a patch name (fixed-counter-3, nested-amd-host-guest-only)" \
	'patches: [fixed-counter-4]\n'
bad_file kvm-bad-key 1 "a key of kvm (enable_pmu, enable_mediated_pmu, force_emulation_prefix)" 'kvm: {mediated: true}\n'
bad_file irqchip-bool 2 "true or false" 'vms:\n  - {irqchip: no}\n'
two_vms='name: two\ncpu: sapphirerapids\npcpus: 2\nvms:\n'
two_vms="$two_vms  - {name: a, vpmu: VP, programs: [{kind: stat, events: [instructions], work: {segments: [{label: w, instructions: 100000}]}}]}\n"
two_vms="$two_vms  - {name: b, vpmu: VP, programs: [{kind: stat, events: [branches], work: {segments: [{label: w, instructions: 100000}]}}]}\n"
printf "$(echo "$two_vms" | sed 's/VP/mediated/g')" >"$tmp/two.yaml"
if runj "issue 9: per-VM vpmu only" "$tmp/r.json" "$tmp/two.yaml"; then
	has "issue 9: per-VM vpmu only" "$tmp/r.json" '"vpmu": "mediated"'
	jcheck "issue 9: per-VM vpmu only runs both" vms "$tmp/r.json" a:mediated:true b:mediated:true
	jcheck "issue 9: per-VM contract" vm_contract "$tmp/r.json"
	jcheck "issue 9: per-VM counters" exact "$tmp/r.json"
fi
sed 's/^cpu: sapphirerapids$/cpu: sapphirerapids\nvpmu: mediated/' "$tmp/two.yaml" >"$tmp/both.yaml"
runj "issue 9: both agreeing" "$tmp/r.json" "$tmp/both.yaml" &&
	jcheck "issue 9: both agreeing" vms "$tmp/r.json" a:mediated:true b:mediated:true
runj "issue 9: --vpmu over the VMs" "$tmp/r.json" "$tmp/two.yaml" --vpmu emulated &&
	jcheck "issue 9: --vpmu over the VMs" vms "$tmp/r.json" a:emulated:true b:emulated:true
# --vpmu none on two VMs: bare metal runs one program; refused, not dropped.
check 2 "issue 9: --vpmu none on two VMs" "$mvpmu" run "$tmp/two.yaml" --vpmu none &&
	one_line_err "issue 9: --vpmu none on two VMs" "bare metal runs one program"
printf 'name: bare2\nvpmu: none\nvms: [{name: a}, {name: b}]\nbare: {kind: stat, events: [instructions], work: {segments: [{label: w, instructions: 1000}]}}\n' >"$tmp/bare2.yaml"
if runj "issue 9: bare: with two VMs" "$tmp/r.json" "$tmp/bare2.yaml"; then
	has "issue 9: bare: with two VMs" "$tmp/r.json" '"vms_not_run": 2'
	has "issue 9: bare: with two VMs" "$tmp/r.json" '"program": "bare"'
	jcheck "issue 9: bare: with two VMs exact" exact "$tmp/r.json"
fi
# Nothing says: a freshly loaded 7.0 KVM, the legacy vPMU.
printf 'name: plain\nvms: [{name: a}]\n' >"$tmp/plain.yaml"
runj "issue 9: default vPMU" "$tmp/r.json" "$tmp/plain.yaml" &&
	jcheck "issue 9: default vPMU" vms "$tmp/r.json" a:emulated:true
# Per-VM disable and no in-kernel irqchip: the VM runs without a PMU.
printf 'name: off\ncpu: skylake\nvpmu: mediated\nvms:\n  - {name: a}\n  - {name: b, disable_pmu: true}\n  - {name: c, irqchip: false}\n' >"$tmp/off.yaml"
runj "issue 9: disable and irqchip" "$tmp/r.json" "$tmp/off.yaml" &&
	jcheck "issue 9: disable and irqchip" vms "$tmp/r.json" a:mediated:true b:none:true c:none:true
# kvm: keys are the module parameters; enable_pmu: false leaves no vPMU.
printf 'name: nopmu\nkvm: {enable_pmu: false}\nvms: [{name: a}]\n' >"$tmp/nopmu.yaml"
if runj "issue 9: enable_pmu false" "$tmp/r.json" "$tmp/nopmu.yaml"; then
	jcheck "issue 9: enable_pmu false" vms "$tmp/r.json" a:none:true
	has "issue 9: enable_pmu false" "$tmp/r.json" '"enable_pmu": false'
fi
# The text report shows the guest PMU shape and what passes through.
if check 0 "issue 9: text report" "$mvpmu" run --cpu skylake --vpmu mediated; then
	has "issue 9: text report" "$tmp/out" "Kernel: Linux 7.0"
	has "issue 9: text report" "$tmp/out" "PMU v2, 4 GP x 48 bits, 3 fixed x 48 bits"
	has "issue 9: text report" "$tmp/out" "global MSRs yes, RDPMC yes"
fi


# ---- issue 13: exhaustive exploration, knobs, shrinking, races ----

# replay_of INV FILE: the replay command printed for the first new violation
# of invariant INV, without its leading "mvpmu".
replay_of() {
	awk -v inv="violation: invariant $1 " '
		index($0, inv) == 1 { want = 1; next }
		want && /^  replay: mvpmu / { sub(/^  replay: mvpmu /, ""); print; exit }
	' "$2"
}

# For each knob, on models where it applies: the knob's own scenario,
# explored exhaustively with the knob, exits 1 naming the invariant the
# decision protects, and its replay command reproduces it; without the
# knob the same command exits 0.
for t in no-global-ctrl-clear:zen4:4:ordering no-global-ctrl-clear:skylake:4:ordering \
	 no-counter-clear:skylake:5:no-leak no-counter-clear:zen5:5:no-leak \
	 assert-instead-of-clear:zen4:4:ordering assert-instead-of-clear:skylake:4:ordering \
	 lvtpc-before-clear:zen4:4:ordering lvtpc-before-clear:icelake:4:ordering \
	 lvtpc-outside-switch:skylake:4:ordering lvtpc-outside-switch:zen4:3:pmi \
	 no-mask-copy:skylake:3:pmi no-mask-copy:zen4:3:pmi no-guestonly:zen4:1:isolation \
	 no-fastpath-bail:skylake:2:conservation no-fastpath-bail:zen5:2:conservation \
	 inject-after-load:skylake:3:pmi inject-after-load:sapphirerapids:3:pmi; do
	k=${t%%:*}; r=${t#*:}; c=${r%%:*}; r=${r#*:}; n=${r%%:*}; iname=${r#*:}
	if check 1 "issue 13: $k on $c" "$mvpmu" explore "$k" --exhaustive --knob "$k" --cpu "$c"; then
		has "issue 13: $k on $c" "$tmp/out" "violation: invariant $n ($iname)"
		cp "$tmp/out" "$tmp/knob.txt"
		line=$(replay_of "$n" "$tmp/knob.txt")
		# shellcheck disable=SC2086 # the replay line is words
		if [ -n "$line" ] && check 1 "issue 13: replay of $k on $c" "$mvpmu" $line; then
			has "issue 13: replay of $k on $c" "$tmp/out" "invariant $n ($iname) violated"
		else
			bad "issue 13: $k on $c: no replay command for invariant $n"
		fi
	fi
	check 0 "issue 13: $k on $c without the knob" "$mvpmu" explore "$k" --exhaustive --cpu "$c"
done
# The knob that is a cost, not an invariant: exit 0, more WRMSRs shown.
if check 0 "issue 13: no-write-elision" "$mvpmu" explore no-write-elision --exhaustive --knob no-write-elision; then
	grep -q "^cost of the knobs.*: [0-9]* WRMSRs in loads and puts ([0-9]* without)" "$tmp/out" &&
		awk '/^cost of the knobs/ { w = $10; o = $16; gsub(/\(/, "", o); exit !(w + 0 > o + 0) }' "$tmp/out" &&
		ok || bad "issue 13: no-write-elision: cost line missing or not higher"
fi
# inject-after-load's cost: one more 0xF5 exit than without the knob.
if check 1 "issue 13: inject-after-load cost" "$mvpmu" explore inject-after-load --exhaustive --knob inject-after-load; then
	has "issue 13: inject-after-load cost" "$tmp/out" "2 of them for the 0xF5 PMI vector (1)"
fi
# assert-instead-of-clear: the WARN is printed with why it fired.
"$mvpmu" explore assert-instead-of-clear --exhaustive --knob assert-instead-of-clear --cpu zen4 >"$tmp/out" 2>&1
has "issue 13: the WARN on AMD" "$tmp/out" "kernel warning: WARN: GLOBAL_CTL != 0 after perf_load_guest_context"
"$mvpmu" explore assert-instead-of-clear --exhaustive --knob assert-instead-of-clear --cpu skylake >"$tmp/out" 2>&1
has "issue 13: the WARN on Intel" "$tmp/out" "7.0's Intel enable-all left every counter bit set"

# pmi-exit-masked: clean runs; clean exhaustive exploration apart from the
# known findings, which --strict counts.
for c in skylake sapphirerapids zen4; do
	if runj "issue 13: pmi-exit-masked on $c" "$tmp/r.json" pmi-exit-masked --cpu "$c"; then
		has "issue 13: pmi-exit-masked on $c" "$tmp/r.json" '"violated": 0,'
	fi
	check 0 "issue 13: pmi-exit-masked explored on $c" "$mvpmu" explore pmi-exit-masked --exhaustive --cpu "$c" &&
		has "issue 13: pmi-exit-masked explored on $c" "$tmp/out" "0 new violation kind(s)"
	check 1 "issue 13: pmi-exit-masked --strict on $c" "$mvpmu" explore pmi-exit-masked --exhaustive --cpu "$c" --strict &&
		has "issue 13: --strict on $c" "$tmp/out" "known finding"
done
# The real design on every mediated model, depth 2 on a small scenario.
for c in skylake icelake sapphirerapids zen4 zen5; do
	check 0 "issue 13: real design on $c" "$mvpmu" explore no-mask-copy --exhaustive --cpu "$c"
done
check 0 "issue 13: depth 2" "$mvpmu" explore no-guestonly --exhaustive --depth 2 --jobs 2

# Deterministic whatever --jobs; JSON.
"$mvpmu" explore no-counter-clear --exhaustive --knob no-counter-clear --jobs 1 >"$tmp/e1" 2>&1
"$mvpmu" explore no-counter-clear --exhaustive --knob no-counter-clear --jobs 3 >"$tmp/e3" 2>&1
cmp -s "$tmp/e1" "$tmp/e3" && ok || bad "issue 13: --exhaustive --jobs 3 differs from --jobs 1"
"$mvpmu" explore no-counter-clear --exhaustive --knob no-counter-clear --json >"$tmp/e.json" 2>/dev/null
valid_json "issue 13: --exhaustive --json" "$tmp/e.json"
has "issue 13: --exhaustive --json" "$tmp/e.json" '"status": 1'

# A random campaign's first bad seed, shrunk; its replay is exact.
if check 1 "issue 13: --shrink" "$mvpmu" explore host-and-guest --cpu zen4 --inject 200000 --seeds 2 --shrink; then
	has "issue 13: --shrink" "$tmp/out" "needs 1 of its"
	line=$(sed -n 's/^  replay: mvpmu //p' "$tmp/out" | head -1)
	hash=$(sed -n 's/^  trace_hash: //p' "$tmp/out" | head -1)
	# shellcheck disable=SC2086
	"$mvpmu" $line --json >"$tmp/r.json" 2>/dev/null
	has "issue 13: --shrink replay" "$tmp/r.json" "\"trace_hash\": \"$hash\""
fi

# Races: every interleaving keeps the exclusion; the unlocked variant not.
check 0 "issue 13: --race" "$mvpmu" explore --race --cpu zen4 &&
	has "issue 13: --race" "$tmp/out" "0 broke the exclusion invariant"
check 1 "issue 13: --race unlocked" "$mvpmu" explore --race --knob unlocked-mediated-accounting &&
	has "issue 13: --race unlocked" "$tmp/out" "mediated VM(s) and 1 guest-including event(s)"

# Usage errors.
for a in "--exhaustive --depth 0" "--exhaustive --depth 5" "--exhaustive --seeds 3" \
	 "--exhaustive --inject 10" "--depth 2" "--strict" "--race host-and-guest" \
	 "--exhaustive --max-executions 0"; do
	# shellcheck disable=SC2086
	check 2 "issue 13: explore $a" "$mvpmu" explore $a && one_line_err "explore $a" "mvpmu explore"
done
for a in "3,2" "x" "1,,2" "-1" "4294967296"; do
	check 2 "issue 13: --inject-at $a" "$mvpmu" run --inject-at "$a" && one_line_err "--inject-at $a" "expected --inject-at"
done
check 2 "issue 13: run --exhaustive" "$mvpmu" run --exhaustive
check 2 "issue 13: run unlocked knob" "$mvpmu" run --knob unlocked-mediated-accounting
# The scenario keys for the PMI handler: bad values are errors naming the line.
printf 'name: a\nvms:\n  - name: v\n    pmi_ack: sometimes\n' >"$tmp/ack.yaml"
check 2 "issue 13: pmi_ack: sometimes" "$mvpmu" run "$tmp/ack.yaml" &&
	one_line_err "pmi_ack" "ack.yaml:4: expected a PMI ack point"
printf 'name: a\nvms:\n  - programs:\n      - {kind: record, events: [instructions], period: 10, handler_work: 5, work: {segments: [{label: x, instructions: 10}]}}\n' >"$tmp/hw.yaml"
check 2 "issue 13: handler_work with record" "$mvpmu" run "$tmp/hw.yaml" &&
	one_line_err "handler_work" "expected 'handler_work' only with kind: emulated"
# Partial: exit 3, marked.
check 3 "issue 13: --max-executions" "$mvpmu" explore no-mask-copy --exhaustive --max-executions 5 &&
	has "issue 13: --max-executions" "$tmp/out" "PARTIAL"
# ---- issue 11: real code ----

gdir=$(dirname "$mvpmu")/guest
img=$gdir/foreign/pmu_check.elf
for m in skylake zen4; do
	for v in none emulated mediated; do
		runj "--image $m $v" "$tmp/r.json" --image "$img" --cpu "$m" --vpmu "$v" &&
			jcheck "issue 11: pmu_check on $m $v" image "$tmp/r.json"
	done
done
if check 0 "--image text" "$mvpmu" run --image "$img" --cpu icelake; then
	for k in "exit status 1" "| loop=2003" "_start" "Invariants"; do
		has "--image text" "$tmp/out" "$k"
	done
fi
runj "--image same seed 1" "$tmp/r1.json" --image "$img" --seed 3
runj "--image same seed 2" "$tmp/r2.json" --image "$img" --seed 3
cmp -s "$tmp/r1.json" "$tmp/r2.json" && ok || bad "--image: same seed, different --json"
if runj "--image --trace" "$tmp/r1.json" --image "$img" --trace "$tmp/t1.json"; then
	valid_json "--image --trace" "$tmp/t1.json"
fi
check 0 "--image --mem" "$mvpmu" run --image "$img" --mem 8M --json &&
	has "--image --mem" "$tmp/out" '"exit_status": 1'
check 0 "compare --image" "$mvpmu" compare --image "$img" && has "compare --image" "$tmp/out" "exit"
check 0 "explore --image" "$mvpmu" explore --image "$img" --seeds 2
printf 'hello\n' >"$tmp/text.elf"
check 2 "--image not ELF" "$mvpmu" run --image "$tmp/text.elf" &&
	one_line_err "--image not ELF" "$tmp/text.elf: not an ELF file"
check 2 "--image missing" "$mvpmu" run --image "$tmp/none.elf" &&
	one_line_err "--image missing" "cannot open the image"
check 2 "--image and scenario" "$mvpmu" run rr-ticks --image "$img"
check 2 "--mem without image" "$mvpmu" run rr-ticks --mem 64M && one_line_err "--mem without image" "--mem"
check 2 "--mem too small" "$mvpmu" run --image "$img" --mem 1M && one_line_err "--mem too small" "1M"
check 2 "--mem not a size" "$mvpmu" run --image "$img" --mem lots && one_line_err "--mem not a size" "lots"
# pmu_check is linked at 4 MiB: it does not fit in 2 MiB of RAM.
check 2 "--mem too small for it" "$mvpmu" run --image "$img" --mem 2M &&
	one_line_err "--mem too small for it" "outside guest RAM"
# kind: image in a scenario file (the path relative to the file), beside
# host perf and a second image VM.
mkdir -p "$tmp/sc"
cp "$img" "$tmp/sc/check.elf"
printf 'name: two-images\npcpus: 2\nvpmu: mediated\nhost:\n  events: [cycles:H]\n  system_wide: true\nvms:\n  - name: a\n    programs:\n      - kind: image\n        image: check.elf\n  - name: b\n    programs:\n      - {kind: image, image: check.elf, mem: 16M, insn_limit: 1000000}\n' >"$tmp/sc/two.yaml"
if check 0 "two image VMs" "$mvpmu" run "$tmp/sc/two.yaml" --json; then
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
ims = d["guest"]["images"]
assert len(ims) == 2, ims
assert [i["exit_status"] for i in ims] == [1, 1], ims
assert all("loop=2003" in i["serial"] for i in ims), ims
assert d["invariants"]["violated"] == 0
assert d["host"]["counters"], d["host"]
' "$tmp/out" && ok || bad "two image VMs: guest.images"
fi
bad_file image-no-key 4 "image for kind: image" 'name: x\nvms:\n  - programs:\n      - kind: image\n'
bad_file image-bad-file 5 "an x86-64 ELF image" 'name: x\nvms:\n  - programs:\n      - kind: image\n        image: no-such.elf\n'
cp "$img" "$tmp/check.elf"
bad_file image-two-vcpus 3 "kind: image on a VM of one vCPU" 'name: x\nvms:\n  - vcpus: 2\n    programs:\n      - {kind: image, image: check.elf}\n'
bad_file image-with-work 4 "no work or events for kind: image" 'name: x\nvms:\n  - programs:\n      - kind: image\n        image: check.elf\n        events: [instructions]\n'

# ---- issue 12: multiboot kernels ----

mb=$gdir/multiboot/mb_check.elf
cp "$mb" "$tmp/sc/mb.elf"
# The kernel prints what it got and exits with (0x21 << 1) | 1 = 67; in a
# VM with the host option, the forced-emulation prefix works.
for m in sapphirerapids zen4; do
	for v in none emulated mediated; do
		if check 0 "issue 12: mb_check $m $v" "$mvpmu" run --image "$mb" --cpu "$m" --vpmu "$v" \
			--cmdline "a b=c" --force-emulation-prefix --json; then
			python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); vm = sys.argv[2] != "none"
im = d["guest"]["images"][0]
assert im["kind"] == "multiboot", im["kind"]
assert im["cmdline"] == sys.argv[3] + " a b=c", im["cmdline"]
assert im["exit"] == "exit" and im["exit_status"] == 67, (im["exit"], im["exit_status"])
s = im["serial"]
assert "cmdline=[a b=c]\n" in s, s
assert "fwcfg_sig=QEMU fwcfg_ram=0x10000000 fwcfg_cpus=1 fwcfg_unknown=0x0\n" in s, s
assert ("fep=emulated fep_insns=13 fep_branches=3\n" if vm else "fep=unavailable\n") in s, s
assert "\ndone\n" in s, s
' "$tmp/out" "$v" "$mb" && ok || bad "issue 12: mb_check $m $v: JSON"
		fi
	done
done
# Without the host option the prefix is a #UD in a VM too.
check 0 "issue 12: no fep option" "$mvpmu" run --image "$mb" --cpu zen4 --vpmu mediated &&
	has "issue 12: no fep option" "$tmp/out" "fep=unavailable"
# The text report names the kernel and its command line.
check 0 "issue 12: text" "$mvpmu" run --image "$mb" --cmdline "x y" &&
	has "issue 12: text" "$tmp/out" "(multiboot kernel)" &&
	has "issue 12: text" "$tmp/out" "command line: $mb x y" &&
	has "issue 12: text" "$tmp/out" "exit status 67"
# Scenario keys cmdline and kvm.force_emulation_prefix.
printf 'name: mbk\nvpmu: emulated\nkvm:\n  force_emulation_prefix: true\nvms:\n  - programs:\n      - {kind: image, image: mb.elf, cmdline: from-file}\n' >"$tmp/sc/mb.yaml"
check 0 "issue 12: scenario cmdline" "$mvpmu" run "$tmp/sc/mb.yaml" &&
	has "issue 12: scenario cmdline" "$tmp/out" "cmdline=[from-file]" &&
	has "issue 12: scenario fep" "$tmp/out" "fep=emulated"
# Runaways: HLT with IF=0 ends the guest (exit 0, "halted"); polling a port
# forever and a jmp-to-itself loop are stopped by the run's budget or the
# image's insn_limit: a partial result, exit 3, with the reason on stderr.
check 0 "issue 12: halt-cli" "$mvpmu" run --image "$mb" --cmdline halt-cli &&
	has "issue 12: halt-cli" "$tmp/out" "ended: halted (halted at RIP"
check 3 "issue 12: spin-lsr --max-insns" "$mvpmu" run --image "$mb" --cmdline spin-lsr --vpmu emulated \
	--max-insns 200000 &&
	has "issue 12: spin-lsr" "$tmp/err" "partial result: reached max_insns 200000" &&
	has "issue 12: spin-lsr" "$tmp/out" "ended: stopped (stopped by the run's budget"
printf 'name: spin\nvms:\n  - programs:\n      - {kind: image, image: mb.elf, cmdline: spin, insn_limit: 300000}\n' >"$tmp/sc/spin.yaml"
check 3 "issue 12: spin insn_limit" "$mvpmu" run "$tmp/sc/spin.yaml" &&
	has "issue 12: spin insn_limit" "$tmp/err" "partial result: ended image vm0/vcpu0 at its insn_limit (reached its limit of 300000 instructions)" &&
	has "issue 12: spin insn_limit" "$tmp/out" "PARTIAL"
# An unsupported mapping ends the guest naming the address.
check 0 "issue 12: unsupported mapping" "$mvpmu" run --image "$mb" --cmdline unsupported &&
	has "issue 12: unsupported mapping" "$tmp/out" "ended: unsupported-mapping (unsupported mapping: virtual 0x200000"
# --cmdline and cmdline are for multiboot kernels only.
check 2 "issue 12: --cmdline on ELF64" "$mvpmu" run --image "$img" --cmdline x &&
	one_line_err "issue 12: --cmdline on ELF64" "multiboot"
check 2 "issue 12: --cmdline without image" "$mvpmu" run rr-ticks --cmdline x &&
	one_line_err "issue 12: --cmdline without image" "--cmdline"
printf 'name: x\nvms:\n  - programs:\n      - {kind: image, image: check.elf, cmdline: x}\n' >"$tmp/sc/elfcmd.yaml"
check 2 "issue 12: cmdline key on ELF64" "$mvpmu" run "$tmp/sc/elfcmd.yaml" &&
	one_line_err "issue 12: cmdline key on ELF64" "elfcmd.yaml:4: expected cmdline and modules only for a multiboot kernel"

# --module: loaded page-aligned, its whole string as its command line; a
# module that cannot be read is one error line, exit 2.
printf 'Zmodule data\n' >"$tmp/sc/mod.txt"
check 0 "issue 12: --module" "$mvpmu" run --image "$mb" --module "$tmp/sc/mod.txt a1" &&
	has "issue 12: --module" "$tmp/out" "module0 size=13 aligned=1 first=Z cmdline=[$tmp/sc/mod.txt a1]"
check 2 "issue 12: --module missing" "$mvpmu" run --image "$mb" --module "$tmp/sc/none.txt" &&
	one_line_err "issue 12: --module missing" "none.txt: cannot open the module"
# The scenario key modules: paths relative to the scenario's directory,
# checked when the file is read (FILE:LINE).
printf 'name: mbm\nvms:\n  - programs:\n      - {kind: image, image: mb.elf, modules: ["mod.txt k=v"]}\n' >"$tmp/sc/mbm.yaml"
check 0 "issue 12: scenario modules" "$mvpmu" run "$tmp/sc/mbm.yaml" &&
	has "issue 12: scenario modules" "$tmp/out" "module0 size=13 aligned=1 first=Z cmdline=[$tmp/sc/mod.txt k=v]"
printf 'name: mbm\nvms:\n  - programs:\n      - kind: image\n        image: mb.elf\n        modules: [none.txt]\n' >"$tmp/sc/mbm2.yaml"
check 2 "issue 12: scenario module missing" "$mvpmu" run "$tmp/sc/mbm2.yaml" &&
	one_line_err "issue 12: scenario module missing" "mbm2.yaml:6: expected a module file mvpmu can read"
echo "cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
