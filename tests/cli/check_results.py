#!/usr/bin/env python3
"""Checks of mvpmu's --json reports and --trace files for tests/cli/run.sh.

Usage: check_results.py CHECK FILE [FILE...] [ARG...]
Prints one line per failure and exits 1 when a check fails, 2 on bad usage
or a file that is not JSON. Python standard library only.
"""
import json
import re
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


# ---- issue 9: what a Linux 7.0 host does ----

HEX_MSR = re.compile(r"^0x[0-9a-f]+$")


def flag(arg):
    if arg not in ("true", "false"):
        print("expected true or false, got %r" % arg)
        sys.exit(2)
    return arg == "true"


def chk_vm_contract(rep):
    """The per-VM fields and the MSR exits, and that they add up: every
    VM's exits sum to the top-level vm_exits, by reason and by MSR."""
    vms = rep["vms"]
    if not isinstance(vms, list) or not vms:
        fail("vms %r, expected a non-empty list" % (vms,))
        return
    if rep["kernel"] != "Linux 7.0":
        fail("kernel %r" % rep["kernel"])
    if not isinstance(rep["patches"], list):
        fail("patches %r" % (rep["patches"],))
    total, by_reason, by_msr = 0, {}, {}
    for v in vms:
        for k, t in (("name", str), ("created", bool), ("vpmu", str)):
            if not isinstance(v[k], t):
                fail("%s: %s %r" % (v.get("name"), k, v[k]))
        if v["created"]:
            if v["error"] is not None:
                fail("%s: created with error %r" % (v["name"], v["error"]))
            for k in ("version", "gp", "fixed", "gp_width", "fixed_width",
                      "perf_capabilities"):
                if not isinstance(v["pmu"][k], int) or isinstance(v["pmu"][k], bool):
                    fail("%s: pmu.%s %r" % (v["name"], k, v["pmu"][k]))
            pt = v["passthrough"]
            if not isinstance(pt["global_msrs"], bool) or not isinstance(pt["rdpmc"], bool):
                fail("%s: passthrough %r" % (v["name"], pt))
            if not all(isinstance(c, str) and HEX_MSR.match(c) for c in pt["counters"]):
                fail("%s: passthrough.counters %r" % (v["name"], pt["counters"]))
            addrs = [int(c, 16) for c in pt["counters"]]
            if addrs != sorted(set(addrs)):
                fail("%s: passthrough.counters not ascending: %r" % (v["name"], addrs))
        else:
            if not isinstance(v["error"], str) or not v["error"].startswith("E"):
                fail("%s: not created, error %r" % (v["name"], v["error"]))
            if v["pmu"] is not None or v["passthrough"] is not None:
                fail("%s: not created but has a pmu or passthrough" % v["name"])
        e = v["vm_exits"]
        if e["total"] != sum(e["by_reason"].values()):
            fail("%s: vm_exits.total %d != sum of by_reason" % (v["name"], e["total"]))
        for k in e["by_msr"]:
            if not HEX_MSR.match(k):
                fail("%s: by_msr key %r" % (v["name"], k))
        total += e["total"]
        for k, n in e["by_reason"].items():
            by_reason[k] = by_reason.get(k, 0) + n
        for k, n in e["by_msr"].items():
            by_msr[k] = by_msr.get(k, 0) + n
    top = rep["vm_exits"]
    if top["total"] != total or top["by_reason"] != by_reason or top["by_msr"] != by_msr:
        fail("top-level vm_exits %r != the VMs' sum %r" % (top, (total, by_reason, by_msr)))


def chk_pmu_shape(rep, version, gp, fixed):
    """Every VM created with the guest PMU shape given, counting exactly."""
    for v in rep["vms"]:
        if not v["created"]:
            fail("%s: not created (%s)" % (v["name"], v["error"]))
            continue
        got = (v["pmu"]["version"], v["pmu"]["gp"], v["pmu"]["fixed"])
        want = (int(version), int(gp), int(fixed))
        if got != want:
            fail("%s: pmu (version, gp, fixed) %r, expected %r" % (v["name"], got, want))
    chk_vm_contract(rep)
    chk_exact(rep)


def chk_intercepts(rep, global_msrs, rdpmc):
    """passthrough.global_msrs / rdpmc as given for every VM; GLOBAL_CTRL
    (0x38f) writes exit when intercepted and never when passed through."""
    g, r = flag(global_msrs), flag(rdpmc)
    for v in rep["vms"]:
        pt = v["passthrough"]
        if pt["global_msrs"] != g or pt["rdpmc"] != r:
            fail("%s: passthrough global_msrs %r rdpmc %r, expected %r %r"
                 % (v["name"], pt["global_msrs"], pt["rdpmc"], g, r))
        n = v["vm_exits"]["by_msr"].get("0x38f", 0)
        if g and n:
            fail("%s: %d exits on 0x38f, passed through" % (v["name"], n))
        if not g and n <= 0:
            fail("%s: no exit on 0x38f, intercepted" % v["name"])
    chk_vm_contract(rep)


def chk_ebusy(rep):
    """Perf holds guest-including events: every VM not created with EBUSY
    and the kernel's warning; no guest ran; the host's counts reported."""
    if rep["vpmu"] != "mediated":
        fail("vpmu %r, expected mediated" % rep["vpmu"])
    for v in rep["vms"]:
        if v["created"] is not False or v["error"] != "EBUSY":
            fail("%s: created %r error %r, expected false EBUSY"
                 % (v["name"], v["created"], v["error"]))
        if not v["warning"] or "Failed to enable mediated vPMU" not in v["warning"]:
            fail("%s: warning %r" % (v["name"], v["warning"]))
        if v["vm_exits"]["total"] != 0:
            fail("%s: %d exits for a VM never created" % (v["name"], v["vm_exits"]["total"]))
    if counters(rep, "guest"):
        fail("guest counters reported for VMs never created")
    hs = [c for c in counters(rep, "host") if supported(c)]
    if not hs:
        fail("no host counters")
    for c in hs:
        if c["truth"] <= 0 or c["value"] != c["truth"]:
            fail("host %s: value %d truth %d" % (c["event"], c["value"], c["truth"]))
    chk_vm_contract(rep)
    no_violation(rep)


def chk_pinned_error(rep, free):
    """The legacy vPMU's pinned events against pinned host events: each
    guest counter either got a counter (exact) or went to perf's error
    state (it reads its stale 0), none is multiplexed in between; exactly
    `free` of them got a counter."""
    cs = counters(rep, "guest")
    if not cs:
        fail("no guest counters")
    exact = 0
    for c in cs:
        if c["truth"] <= 0 or c["value"] not in (0, c["truth"]):
            fail("guest %s: value %d truth %d, expected 0 or the truth"
                 % (c["event"], c["value"], c["truth"]))
        exact += c["value"] == c["truth"]
    if exact != int(free):
        fail("%d guest counters exact, expected %s" % (exact, free))
    no_violation(rep)


def chk_kernel(rep, *patches):
    """kernel "Linux 7.0" and the patches in force, in order."""
    if rep["kernel"] != "Linux 7.0":
        fail("kernel %r" % rep["kernel"])
    if rep["patches"] != list(patches):
        fail("patches %r, expected %r" % (rep["patches"], list(patches)))


def chk_vms(rep, *spec):
    """Each VM in order as NAME:VPMU:CREATED (the vPMU the VM got)."""
    got = ["%s:%s:%s" % (v["name"], v["vpmu"], str(v["created"]).lower())
           for v in rep["vms"]]
    if got != list(spec):
        fail("vms %r, expected %r" % (got, list(spec)))
    no_violation(rep)
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
    "vm_contract": (chk_vm_contract, 1), "pmu_shape": (chk_pmu_shape, 1, 3),
    "intercepts": (chk_intercepts, 1, 2), "ebusy": (chk_ebusy, 1),
    "pinned_error": (chk_pinned_error, 1, 1), "kernel": (chk_kernel, 1, None),
    "vms": (chk_vms, 1, None),
    "image": (chk_image, 1),
}


def main(argv):
    if len(argv) < 3 or argv[1] not in CHECKS:
        print(__doc__.strip() + "\nchecks: " + " ".join(sorted(CHECKS)))
        return 2
    fn, nfiles = CHECKS[argv[1]][:2]
    nargs = CHECKS[argv[1]][2] if len(CHECKS[argv[1]]) > 2 else 0
    extra = argv[2 + nfiles:]
    if len(argv) < 2 + nfiles or (nargs is not None and len(extra) != nargs):
        print("%s takes %d file(s) and %s argument(s)" % (argv[1], nfiles, nargs))
        return 2
    docs = [load(p) for p in argv[2:2 + nfiles]]
    try:
        fn(*docs, *extra)
    except (KeyError, TypeError, IndexError) as e:
        fail("missing or mistyped field: %r" % (e,))
    for f in failures:
        print(f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
