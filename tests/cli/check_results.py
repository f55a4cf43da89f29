#!/usr/bin/env python3
"""Checks of mvpmu's --json reports and --trace files for tests/cli/run.sh.

Usage: check_results.py CHECK FILE [FILE...]
Prints one line per failure and exits 1 when a check fails, 2 on bad usage
or a file that is not JSON. Python standard library only.
"""
import json
import sys

failures = []


def fail(msg):
    failures.append(msg)


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print("%s: cannot read JSON: %s" % (path, e))
        sys.exit(2)


def counters(rep, side):
    return rep[side]["counters"]


def supported(c):
    return "not supported" not in c["event"]


def no_violation(rep):
    if rep["invariants"]["violated"] != 0:
        fail("invariants.violated = %d" % rep["invariants"]["violated"])


def guest_exact(rep):
    cs = counters(rep, "guest")
    if not cs:
        fail("no guest counters")
    for c in cs:
        if c["value"] != c["truth"]:
            fail("guest %s %s: value %d != truth %d"
                 % (c["name"], c["event"], c["value"], c["truth"]))


def chk_exact(rep):
    """Every guest counter value == truth, no invariant violated."""
    guest_exact(rep)
    no_violation(rep)


def chk_multiplex(rep):
    """Host multiplexing: one counter ran less than enabled; every scaled
    value within 1% of the truth; no violation."""
    cs = [c for c in counters(rep, "host") if supported(c)]
    if not cs:
        fail("no supported host counters")
    if not any(c["time_running"] < c["time_enabled"] for c in cs):
        fail("no host counter with time_running < time_enabled")
    for c in cs:
        if c["truth"] <= 0:
            fail("host %s: truth %d" % (c["event"], c["truth"]))
        elif abs(c["value"] - c["truth"]) > 0.01 * c["truth"]:
            fail("host %s: value %d not within 1%% of truth %d"
                 % (c["event"], c["value"], c["truth"]))
    no_violation(rep)


def chk_emulated(rep):
    """Emulated vPMU without contention: exact and with VM exits."""
    if rep["vpmu_effective"] != "emulated":
        fail("vpmu_effective %r, expected emulated" % rep["vpmu_effective"])
    guest_exact(rep)
    if rep["vm_exits"]["total"] <= 0:
        fail("vm_exits.total = %d, expected > 0" % rep["vm_exits"]["total"])
    no_violation(rep)


def chk_below(rep):
    """Contention: at least one guest counter below its truth."""
    if not any(c["value"] < c["truth"] for c in counters(rep, "guest")):
        fail("no guest counter with value < truth")


def chk_filter(rep):
    """filter-deny: instructions counts 0 with truth > 0; the others count
    exactly."""
    ins = [c for c in counters(rep, "guest") if c["event"] == "instructions"]
    if not ins:
        fail("no guest instructions counter")
    for c in ins:
        if c["value"] != 0 or c["truth"] <= 0:
            fail("instructions: value %d truth %d, expected 0 and > 0"
                 % (c["value"], c["truth"]))
    others = [c for c in counters(rep, "guest") if c["event"] != "instructions"]
    if not others:
        fail("no guest counter other than instructions")
    for c in others:
        if c["truth"] <= 0 or c["value"] != c["truth"]:
            fail("%s: value %d truth %d, expected to count"
                 % (c["event"], c["value"], c["truth"]))


def chk_mediated(rep, emu):
    """Mediated: effective, exact, no violation, fewer exits than emulated."""
    if rep["vpmu_effective"] != "mediated":
        fail("vpmu_effective %r, expected mediated" % rep["vpmu_effective"])
    if rep["vpmu_fallback_reason"] != "":
        fail("vpmu_fallback_reason %r" % rep["vpmu_fallback_reason"])
    guest_exact(rep)
    no_violation(rep)
    if emu["vpmu_effective"] != "emulated":
        fail("emulated run: vpmu_effective %r" % emu["vpmu_effective"])
    m, e = rep["vm_exits"]["total"], emu["vm_exits"]["total"]
    if not m < e:
        fail("vm_exits.total mediated %d not < emulated %d" % (m, e))


def chk_fallback(rep):
    """Mediated asked on a host without support: emulated with a reason."""
    if rep["vpmu"] != "mediated":
        fail("vpmu %r, expected mediated" % rep["vpmu"])
    if rep["vpmu_effective"] != "emulated":
        fail("vpmu_effective %r, expected emulated" % rep["vpmu_effective"])
    if not rep["vpmu_fallback_reason"]:
        fail("empty vpmu_fallback_reason")
    no_violation(rep)


# Sample shares per label against the true share of events, within 1
# percentage point.  record-labels samples every 20000 instructions over a
# deterministic workload (8 passes of 4 labels, 3000 samples): with exact
# overflow a label of N instructions per pass gets floor or ceil of N/20000
# samples, so each label is at most 8 samples (0.27 points) off.  1 point
# leaves room for that rounding and still catches samples charged to the
# wrong label: 30 misattributed samples, one per 100, already exceed it.
SHARE_TOL_PP = 1.0


def chk_labels(rep):
    s = rep["guest"]["samples"]
    labels = s["labels"]
    if len(labels) < 2:
        fail("expected samples for several labels, got %d" % len(labels))
    if s["total"] <= 0 or s["total"] != sum(l["samples"] for l in labels):
        fail("samples.total %d != sum of labels" % s["total"])
    tot_truth = sum(l["truth_events"] for l in labels)
    for l in labels:
        share = 100.0 * l["samples"] / s["total"] if s["total"] else 0
        true_share = 100.0 * l["truth_events"] / tot_truth if tot_truth else 0
        if abs(share - l["share"]) > 1e-6 or abs(true_share - l["true_share"]) > 1e-6:
            fail("%s: reported shares %.6f/%.6f, computed %.6f/%.6f"
                 % (l["label"], l["share"], l["true_share"], share, true_share))
        if abs(share - true_share) > SHARE_TOL_PP:
            fail("%s: sample share %.3f%% vs true share %.3f%% (tolerance %.1f pp)"
                 % (l["label"], share, true_share, SHARE_TOL_PP))
    if s["lost"] != 0:
        fail("samples.lost = %d" % s["lost"])
    no_violation(rep)


def chk_rr(rep):
    rr = rep["guest"].get("rr")
    if rr is None:
        fail("no guest.rr")
        return
    if rr["interrupts"] <= 0:
        fail("rr.interrupts = %d" % rr["interrupts"])
    if rr["exact"] != rr["interrupts"]:
        fail("rr.exact %d != interrupts %d" % (rr["exact"], rr["interrupts"]))
    if rr["ticks_counted"] != rr["ticks_truth"] or rr["ticks_truth"] <= 0:
        fail("rr.ticks_counted %d != ticks_truth %d"
             % (rr["ticks_counted"], rr["ticks_truth"]))
    no_violation(rep)


def chk_trace(tr, rep):
    """The trace has every kind of event docs/cli.md describes, the guest
    slices are balanced per thread, and its exits agree with the report."""
    if tr.get("displayTimeUnit") != "ns":
        fail("displayTimeUnit %r" % tr.get("displayTimeUnit"))
    ev = tr.get("traceEvents")
    if not isinstance(ev, list) or not ev:
        fail("no traceEvents")
        return

    def n(pred):
        return sum(1 for e in ev if pred(e))

    meta = {(e["name"], e["args"]["name"]) for e in ev if e["ph"] == "M"}
    if not any(k == "process_name" and v.startswith("cpu ") for k, v in meta):
        fail("no process named 'cpu N'")
    if ("thread_name", "host") not in meta:
        fail("no thread named host")
    if not any(k == "thread_name" and v.startswith("guest") for k, v in meta):
        fail("no guest thread")
    kinds = {
        "guest slice begin (B guest)": lambda e: e["ph"] == "B" and e["name"] == "guest",
        "guest slice end (E guest)": lambda e: e["ph"] == "E" and e["name"] == "guest",
        "VM exit (i exit ...)": lambda e: e["ph"] == "i" and e["name"].startswith("exit ") and e.get("cat") == "vmexit",
        "PMI (i PMI)": lambda e: e["ph"] == "i" and e["name"] == "PMI",
        "injected interrupt (i inject 0x..)": lambda e: e["ph"] == "i" and e["name"].startswith("inject "),
        "PMU load step (cat pmu_load)": lambda e: e["ph"] == "i" and e.get("cat") == "pmu_load",
        "PMU put step (cat pmu_put)": lambda e: e["ph"] == "i" and e.get("cat") == "pmu_put",
        "counter track (C msr 0x...)": lambda e: e["ph"] == "C" and e["name"].startswith("msr 0x"),
    }
    mediated = rep["vpmu_effective"] == "mediated"
    for what, pred in kinds.items():
        if "PMU" in what and not mediated:
            # Only the mediated vPMU loads and puts the PMU.
            if n(pred):
                fail("%s run has a %s" % (rep["vpmu_effective"], what))
        elif n(pred) == 0:
            fail("trace has no %s" % what)
    for step in ("perf_load_guest_context", "global_ctrl=0", "lvtpc=guest",
                 "counters+selectors"):
        if mediated and n(lambda e: e.get("cat") == "pmu_load" and e["name"] == step) == 0:
            fail("no pmu_load step %r" % step)
    for step in ("counters+selectors", "lvtpc=nmi", "perf_put_guest_context"):
        if mediated and n(lambda e: e.get("cat") == "pmu_put" and e["name"] == step) == 0:
            fail("no pmu_put step %r" % step)
    # Timestamps never go backwards within a thread; B/E alternate.
    open_ = {}
    last = {}
    for e in ev:
        if e["ph"] == "M":
            continue
        key = (e["pid"], e.get("tid"))
        if e["ts"] < last.get(key, 0):
            fail("ts goes backwards on %s at %s" % (key, e["ts"]))
            break
        last[key] = e["ts"]
        if e["ph"] == "B":
            if open_.get(key):
                fail("nested B on %s at %s" % (key, e["ts"]))
                break
            open_[key] = True
        elif e["ph"] == "E":
            if not open_.get(key):
                fail("E without B on %s at %s" % (key, e["ts"]))
                break
            open_[key] = False
    if any(open_.values()):
        fail("a guest slice is left open")
    exits = n(lambda e: e.get("cat") == "vmexit")
    if exits != rep["vm_exits"]["total"]:
        fail("trace has %d exits, report vm_exits.total %d"
             % (exits, rep["vm_exits"]["total"]))
    pmis = n(lambda e: e["ph"] == "i" and e["name"] == "PMI")
    if pmis < rep["guest"]["pmis"]:
        fail("trace has %d PMIs, report guest.pmis %d" % (pmis, rep["guest"]["pmis"]))


def chk_compare(doc):
    runs = doc.get("runs", [])
    if [r["vpmu"] for r in runs] != ["none", "emulated", "mediated"]:
        fail("runs %r, expected none, emulated, mediated" % [r["vpmu"] for r in runs])
    for r in runs:
        if r["invariants"]["violated"]:
            fail("%s: invariants violated" % r["vpmu"])


def chk_image(rep):
    """guest/foreign/pmu_check.S (issue 11's check): exit status, the
    counts it prints (docs/realcode.md: 2N + 2 on bare metal, one more in
    a VM, which intercepts the enabling PERFEVTSEL write and counts it in
    software), the truth per symbol adding up, no invariant broken."""
    g = rep["guest"]
    vm = rep["vpmu_effective"] != "none"
    intel = rep["cpu"] not in ("zen3", "zen4", "zen5")
    if g["exit"] != "exit" or g["exit_status"] != 1:
        fail("exit %s status %s, want exit status 1" % (g["exit"], g["exit_status"]))
    vals = dict(w.split("=", 1) for w in g["serial"].split() if "=" in w)
    want = {"loop": str(2002 + vm), "gp": "1" if intel else "0",
            "pmis": "1", "pmi_ebx": str(1500 + vm),
            "lvtpc": "0x10400" if intel else "0x400"}
    for k, v in want.items():
        if vals.get(k) != v:
            fail("serial %s=%s, want %s" % (k, vals.get(k), v))
    if rep["invariants"]["violated"] != 0:
        fail("invariants violated: %d" % rep["invariants"]["violated"])
    total = sum(s["instructions"]["user"] + s["instructions"]["kernel"]
                for s in g["symbols"])
    if total != g["instructions"]["user"] + g["instructions"]["kernel"]:
        fail("symbols add up to %d instructions, the guest retired %d" %
             (total, g["instructions"]["user"] + g["instructions"]["kernel"]))
    # Most instructions first, equal counts by name (docs/cli.md).
    keys = [(-(s["instructions"]["user"] + s["instructions"]["kernel"]), s["name"])
            for s in g["symbols"]]
    if keys != sorted(keys):
        fail("guest.symbols not sorted by instructions, then name: %s" %
             [s["name"] for s in g["symbols"]])
    names = [s["name"] for s in g["symbols"]]
    for n in ("_start", "nmi", "putc"):
        if n not in names:
            fail("no symbol %s in guest.symbols" % n)
    if g["pmis"] != 1:
        fail("guest.pmis %d, want 1" % g["pmis"])


CHECKS = {
    "exact": (chk_exact, 1), "multiplex": (chk_multiplex, 1),
    "emulated": (chk_emulated, 1), "below": (chk_below, 1),
    "filter": (chk_filter, 1), "mediated": (chk_mediated, 2),
    "fallback": (chk_fallback, 1), "labels": (chk_labels, 1),
    "rr": (chk_rr, 1), "trace": (chk_trace, 2), "compare": (chk_compare, 1),
    "image": (chk_image, 1),
}


def main(argv):
    if len(argv) < 3 or argv[1] not in CHECKS:
        print(__doc__.strip() + "\nchecks: " + " ".join(sorted(CHECKS)))
        return 2
    fn, nfiles = CHECKS[argv[1]]
    if len(argv) != 2 + nfiles:
        print("%s takes %d file(s)" % (argv[1], nfiles))
        return 2
    docs = [load(p) for p in argv[2:]]
    try:
        fn(*docs)
    except (KeyError, TypeError, IndexError) as e:
        fail("missing or mistyped field: %r" % (e,))
    for f in failures:
        print(f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
