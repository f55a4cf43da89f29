#!/usr/bin/env python3
"""make mutants: plants each bug of tests/mutants/list, one at a time, in a
scratch copy of the tree (build-mutants/tree, never the working tree),
rebuilds it and runs the fast suite (the cmocka binaries, fastest first,
then tests/cli/run.sh, without ASan), stopping at the first test that
fails.  Prints one line per planted bug and a score naming the survivors.

A planted bug whose text is not found exactly once in its file is an error
(the list is out of date), not a skip.  Exit status: 0 when every planted
bug was caught or is explained in the list as equivalent, 1 otherwise, 2
for a bad list or a tree that does not pass without planted bugs.

Usage: run.py [--list FILE] [--jobs N] [--only NAME[,NAME...]] [--scratch DIR] [--every]
"""
import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# What the build and the fast suite need from the tree.
COPY = ["Makefile", "include", "src", "tests", "scenarios", "guest", "scripts"]


def parse_list(path):
    """The list: one entry per planted bug,

        mutant NAME
        file PATH
        bug WHAT REAL BUG IT STANDS FOR
        [equivalent WHY NOTHING OBSERVABLE CHANGES]
        <<<
        exact text in PATH (one or more lines)
        ===
        its replacement (zero or more lines)
        >>>

    '#' lines and blank lines between entries are ignored."""
    entries, errors = [], []
    lines = open(path, encoding="utf-8").read().split("\n")
    i, cur = 0, None
    while i < len(lines):
        line = lines[i]
        lineno = i + 1
        i += 1
        if cur is None:
            if not line.strip() or line.startswith("#"):
                continue
            if not line.startswith("mutant "):
                errors.append("%s:%d: expected 'mutant NAME', got %r" % (path, lineno, line))
                continue
            cur = {"name": line[7:].strip(), "line": lineno, "file": None, "bug": None,
                   "equivalent": None}
            continue
        for key in ("file", "bug", "equivalent"):
            if line.startswith(key + " "):
                cur[key] = line[len(key) + 1:].strip()
                break
        else:
            if line != "<<<":
                errors.append("%s:%d: expected file/bug/equivalent or '<<<', got %r"
                              % (path, lineno, line))
                cur = None
                continue
            old, new = [], []
            part = old
            while i < len(lines) and lines[i] != ">>>":
                if lines[i] == "===" and part is old:
                    part = new
                else:
                    part.append(lines[i])
                i += 1
            if i == len(lines) or part is old:
                errors.append("%s:%d: unterminated entry %s" % (path, cur["line"], cur["name"]))
                return entries, errors
            i += 1
            cur["old"], cur["new"] = "\n".join(old), "\n".join(new)
            if not cur["file"] or not cur["bug"] or not cur["old"]:
                errors.append("%s:%d: %s needs a file, a bug line and old text"
                              % (path, cur["line"], cur["name"]))
            entries.append(cur)
            cur = None
    if cur is not None:
        errors.append("%s:%d: unterminated entry %s" % (path, cur["line"], cur["name"]))
    names = [e["name"] for e in entries]
    for n in set(names):
        if names.count(n) > 1:
            errors.append("%s: mutant %s listed %d times" % (path, n, names.count(n)))
    return entries, errors


def check_applies(entries):
    errors = []
    for e in entries:
        path = os.path.join(ROOT, e["file"])
        if not os.path.isfile(path):
            errors.append("%s: %s: no such file" % (e["name"], e["file"]))
            continue
        n = open(path, encoding="utf-8").read().count(e["old"])
        if n != 1:
            errors.append("%s: its text is found %d times in %s (must be exactly once): "
                          "the list is out of date" % (e["name"], n, e["file"]))
    return errors


def sync_tree(scratch):
    """Copies the tree into `scratch`, rewriting only files whose content
    differs (so the scratch build stays incremental) and deleting the ones
    that are gone."""
    tree = os.path.join(scratch, "tree")
    os.makedirs(tree, exist_ok=True)
    want = set()
    for top in COPY:
        src = os.path.join(ROOT, top)
        if os.path.isfile(src):
            rels = [top]
        else:
            rels = []
            for d, dirs, files in os.walk(src):
                dirs[:] = [x for x in dirs if not x.startswith(".")]
                rels += [os.path.relpath(os.path.join(d, f), ROOT) for f in files]
        for rel in rels:
            want.add(rel)
            s, t = os.path.join(ROOT, rel), os.path.join(tree, rel)
            if os.path.isfile(t) and filecmp.cmp(s, t, shallow=False):
                continue
            os.makedirs(os.path.dirname(t), exist_ok=True)
            shutil.copyfile(s, t)
            shutil.copymode(s, t)
    for top in COPY:
        base = os.path.join(tree, top)
        if not os.path.isdir(base):
            continue
        for d, _, files in os.walk(base):
            for f in files:
                rel = os.path.relpath(os.path.join(d, f), tree)
                if rel not in want:
                    os.remove(os.path.join(d, f))
    return tree


def build(tree, jobs):
    """Builds the command, every test binary and the guest images;
    returns (ok, tail of the output)."""
    p = subprocess.run(["make", "-C", tree, "-j%d" % jobs, "--no-print-directory",
                        "BUILD=build", "tests-bin"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode == 0, p.stdout[-1500:]


def test_binaries(tree):
    out = []
    for d, _, files in os.walk(os.path.join(tree, "build", "tests")):
        for f in files:
            p = os.path.join(d, f)
            if os.access(p, os.X_OK) and not f.endswith(".log"):
                out.append(p)
    return sorted(out)


def run_suite(tree, order, limits, every=False):
    """Runs the fast suite until a test fails; returns (None, seconds) when
    all pass, else (name of the failing test, seconds).  `every`: runs the
    whole suite and names every test that failed."""
    t0 = time.monotonic()
    env = dict(os.environ)
    if not every:
        env["MVPMU_FAIL_FAST"] = "1"
    failed = []
    for t in order:
        name = os.path.relpath(t, os.path.join(tree, "build"))
        cmd = [t] if not t.endswith("run.sh") else ["sh", t, "build/mvpmu"]
        try:
            p = subprocess.run(cmd, cwd=tree, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=limits.get(t, 600), env=env)
            if p.returncode != 0:
                failed.append("%s (exit %d)" % (name, p.returncode))
        except subprocess.TimeoutExpired:
            failed.append("%s (timeout)" % name)
        if failed and not every:
            break
    return ", ".join(failed) or None, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description="mutation testing of the fast suite")
    ap.add_argument("--list", default=os.path.join(ROOT, "tests", "mutants", "list"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", default="")
    ap.add_argument("--scratch", default=os.path.join(ROOT, "build-mutants"))
    ap.add_argument("--every", action="store_true",
                    help="run the whole suite for each planted bug and name every test that fails")
    a = ap.parse_args()
    entries, errors = parse_list(a.list)
    errors += check_applies(entries)
    if errors:
        for e in errors:
            print("error: " + e, file=sys.stderr)
        return 2
    if a.only:
        want = a.only.split(",")
        unknown = [n for n in want if n not in [e["name"] for e in entries]]
        if unknown:
            print("error: no mutant named %s" % ", ".join(unknown), file=sys.stderr)
            return 2
        entries = [e for e in entries if e["name"] in want]
    start = time.monotonic()
    tree = sync_tree(a.scratch)
    ok, log = build(tree, a.jobs)
    if not ok:
        print(log, file=sys.stderr)
        print("error: the scratch tree does not build without planted bugs", file=sys.stderr)
        return 2
    # The unplanted run: every test passes, and its times order the suite
    # (fastest first, so that most planted bugs are caught within seconds)
    # and bound each test's run (ten times its time, at least a minute).
    times = {}
    env = dict(os.environ, MVPMU_FAIL_FAST="1")
    for t in test_binaries(tree) + [os.path.join(tree, "tests", "cli", "run.sh")]:
        t0 = time.monotonic()
        cmd = [t] if not t.endswith("run.sh") else ["sh", t, "build/mvpmu"]
        p = subprocess.run(cmd, cwd=tree, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env=env)
        times[t] = time.monotonic() - t0
        if p.returncode != 0:
            print("error: %s fails without planted bugs" % t, file=sys.stderr)
            return 2
    runsh = os.path.join(tree, "tests", "cli", "run.sh")
    order = sorted((t for t in times if t != runsh), key=lambda t: times[t]) + [runsh]
    limits = {t: max(60.0, 10 * times[t]) for t in times}
    print("fast suite: %d cmocka binaries %.1f s, tests/cli/run.sh %.1f s (without planted bugs)"
          % (len(order) - 1, sum(times[t] for t in order[:-1]), times[runsh]))
    sys.stdout.flush()

    caught, survived, equivalent, broken, wrong_equiv = [], [], [], [], []
    for e in entries:
        path = os.path.join(tree, e["file"])
        # The scratch copy, as synced (the working tree may change meanwhile).
        text = open(path, encoding="utf-8").read()
        if text.count(e["old"]) != 1:
            broken.append(e["name"])
            print("%-40s NO LONGER APPLIES in the scratch copy" % e["name"])
            continue
        t0 = time.monotonic()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(e["old"], e["new"], 1))
        ok, log = build(tree, a.jobs)
        if not ok:
            who, secs = None, 0.0
        else:
            who, secs = run_suite(tree, order, limits, a.every)
        # The file back as it was (rebuilt with the next planted bug).
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        took = time.monotonic() - t0
        if not ok:
            broken.append(e["name"])
            print("%-40s DOES NOT BUILD (%.0f s)" % (e["name"], took))
            print("    " + log.strip().split("\n")[-1])
        elif who:
            caught.append(e["name"])
            if e["equivalent"]:
                wrong_equiv.append(e["name"])
            print("%-40s caught by %s (%.0f s)" % (e["name"], who, took))
        elif e["equivalent"]:
            equivalent.append(e["name"])
            print("%-40s survived, equivalent: %s (%.0f s)" % (e["name"], e["equivalent"], took))
        else:
            survived.append(e["name"])
            print("%-40s SURVIVED: %s (%.0f s)" % (e["name"], e["bug"], took))
        sys.stdout.flush()
    ok, _ = build(tree, a.jobs)	# leave the scratch build as the tree is
    total = len(entries)
    scored = total - len(equivalent)
    print("mutation score: %d of %d planted bugs caught (%.1f%%), %d equivalent, %d survived%s, "
          "%d do not build; %.0f s"
          % (len(caught), scored, 100.0 * len(caught) / scored if scored else 100.0,
             len(equivalent), len(survived),
             (": " + ", ".join(survived)) if survived else "", len(broken),
             time.monotonic() - start))
    if wrong_equiv:
        print("listed as equivalent but caught (fix the list): " + ", ".join(wrong_equiv))
    return 1 if survived or broken or wrong_equiv else 0


if __name__ == "__main__":
    sys.exit(main())
