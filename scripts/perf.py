#!/usr/bin/env python3
"""perf.py - heaplab's performance targets, measured side by side (`make perf`).

Usage: scripts/perf.py [--rounds=N] [--depth=N] [--churn-ops=N] [--out=DIR]
                       [--update-readme] [--strict]

Each target is a ratio of two figures measured in this one run, on this
machine, never a figure carried over from another run:

  harness tax        heaplab's workload against a plain C program doing the
                     same work with malloc/free (or GC_MALLOC) called directly
                     (reference/*.c, built beside heaplab), per system
                     allocator: trees/binarytrees under `manual`, churn/fixed64,
                     and trees/binarytrees under `tracing` against GC_MALLOC;
  collector overhead refcount and cycle against manual on trees/binarytrees,
                     on the same allocator;
  the pool           fastest of the six allocators on both churn variants, and
                     at most half of mimalloc's time per operation; its peak RSS
                     on the fragmentation adversary no worse than mimalloc's;
  the harness        the empty workload under 1 ns per operation;
  cycle vs CPython   heaplab's whole collection per collected object at most
                     0.5x CPython 3.11's with a __slots__ class (pairs of
                     1,000,000 objects; scripts/cpython_compare.py, run once);
  the recorder       `bench --record` at most doubles a python3 run's CPU time
                     (PYTHONMALLOC=malloc, an object-heavy script), and its
                     trace takes at most 16 bytes per event.

A round runs every measurement once: each reference program under each
system allocator (LD_PRELOAD of the library `bench --list` names, the
program printing which library really served its malloc), and three bench
invocations (the trees cells, the tracing cell, the churn cells), in a
seeded random order of its own.  The figure of a cell is the median over
the rounds; the ratios are of medians.  Before any ratio is taken the
work is proven the same: the reference binary-trees prints the Benchmarks
Game's checks, which must equal heaplab's check figures, and the reference
churn loop's checksum must equal heaplab's churn checksum.

Bounds (not targets): for each target the issue sets, the best figure any
strategy could reach on this machine, measured in the same rounds, so that
a "not met" says whether the limit is within reach at all:

  pool / mimalloc    build/ref-churn-floor (churn's loop on reference/floor.h,
                     the least allocator: a few instructions a call, in
                     process) against heaplab's churn under mimalloc: no
                     allocator's churn can cost less than the floor's;
  trees tax          build/ref-binarytrees-layout against ref-binarytrees
                     (and ref-binarytrees-gc-layout against -gc for tracing):
                     heaplab's node layout in plain C, no harness at all
                     (with ref-binarytrees-type and -header, the layout's
                     fields added one at a time: what each field costs);
  cycle / manual     refcount / manual (cycle is reference counting plus
                     collections).  Beside them, not a bound: cycle with
                     CPython's full collections held off
                     (--gc-threshold=700,10,1000000), what the young
                     collections alone cost ("where cycle's time goes").

Output: one line per target (the ratio, the limit, "met" or "not met", and
the commands behind it), and DIR/perf.json and DIR/perf.md (default
results/perf/).  --update-readme rewrites the README's targets table (the
block between <!-- perf:begin --> and <!-- perf:end -->) from perf.md.

Exit status: 0 when everything was measured (a target not met is a finding,
reported, not a failure) or, with --strict, 1 when a target is not met;
1 when a measurement failed or the work differed; 2 on bad usage.
"""
import argparse
import glob
import json
import os
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import cpython_compare  # cpu_model, shared by the scripts (scripts/ is on sys.path)

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(TOP, "bench")
BUILD = os.path.join(TOP, "build")
SYSTEM = ["glibc", "jemalloc", "mimalloc", "tcmalloc"]
ALL_SIX = SYSTEM + ["pool", "arena"]
TREES_ALLOCATORS = SYSTEM + ["pool"]  # arena keeps every node: not a trees row
LIMITS = {"tax": 1.3, "refcount": 1.2, "cycle": 1.6, "fastest": 1.0, "pool_vs_mimalloc": 0.5,
          "fragadv_rss": 1.0, "empty_ns": 1.0, "cpython": 0.5, "record_slowdown": 2.0,
          "trace_bytes": 16.0}
# The program the recorder targets run: object-heavy Python, every object from
# malloc (PYTHONMALLOC=malloc), about half a second here.
RECORD_SCRIPT = """
live = []
for i in range(600000):
    live.append({"key": i, "text": str(i) * 3, "pair": (i, i + 1)})
    if len(live) > 40000:
        del live[:20000]
print(len(live))
"""
CHURN_LIVE = 1000


def quote(argv):
    """A command line for the reader: paths inside the checkout made relative."""
    return shlex.join([os.path.relpath(a, TOP) if a.startswith(TOP) else a for a in argv])


class Failure(Exception):
    """A measurement that failed or did not do the work it claims."""


def run(cmd, env=None):
    """Run cmd; return its stdout, or raise Failure with its stderr's tail."""
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        tail = (p.stderr or p.stdout).strip().splitlines()[-3:]
        raise Failure("%s exited %d: %s" % (shlex.join(cmd), p.returncode, " / ".join(tail)))
    return p.stdout


def preload_paths():
    """{allocator: library path or None} for the available system allocators,
    from `bench --list` (the one place the paths are defined)."""
    paths, current = {}, None
    for line in run([BENCH, "--list"]).splitlines():
        m = re.match(r"  (\S+)\s+(available|unavailable)\s", line)
        if m:
            current = m.group(1) if m.group(2) == "available" else None
            if current in SYSTEM:
                paths[current] = None
            continue
        m = re.match(r"\s+preload: (\S+)$", line)
        if m and current in paths:
            paths[current] = m.group(1)
    return paths


class Plan:
    """The measurements of one round and what each one yields."""

    def __init__(self, args, paths):
        self.args = args
        self.paths = paths
        d, ops = str(args.depth), str(args.churn_ops)
        self.trees_cmd = [BENCH, "--workload=trees", "--param", "variant=binarytrees",
                          "--param", "depth=" + d, "--collector=manual,refcount,cycle",
                          "--allocator=" + ",".join(a for a in TREES_ALLOCATORS
                                                    if a in paths or a == "pool")]
        self.tracing_cmd = [BENCH, "--workload=trees", "--param", "variant=binarytrees",
                            "--param", "depth=" + d, "--collector=tracing", "--allocator=glibc"]
        self.churn_cmd = [BENCH, "--workload=churn", "--param", "live=%d" % CHURN_LIVE,
                          "--param", "ops=" + ops,
                          "--allocator=" + ",".join(a for a in ALL_SIX
                                                    if a in paths or a in ("pool", "arena"))]
        self.fragadv_cmd = [BENCH, "--workload=fragadv", "--allocator=pool,mimalloc"]
        self.empty_cmd = [BENCH, "--workload=empty"]
        self.cpython_cmd = [BENCH, "--workload=cycles", "--collector=cycle", "--allocator=pool",
                            "--param", "variant=pairs", "--param", "batch=500000",
                            "--param", "ops=500000", "--param", "collect=1",
                            "--gc-threshold=0,0,0", "--repetitions=3"]
        self.record_dir = tempfile.mkdtemp(prefix="heaplab-perf-record-")
        script = os.path.join(self.record_dir, "objects.py")
        with open(script, "w") as f:
            f.write(RECORD_SCRIPT)
        self.python = [BENCH, "--", "/usr/bin/python3", script]
        self.python_recorded = [BENCH, "--record=" + os.path.join(self.record_dir, "objects.trace"),
                                "--", "/usr/bin/python3", script]
        self.ref_trees = [os.path.join(BUILD, "ref-binarytrees"), d]
        self.ref_trees_gc = [os.path.join(BUILD, "ref-binarytrees-gc"), d]
        self.ref_trees_gc_layout = [os.path.join(BUILD, "ref-binarytrees-gc-layout"), d]
        self.ref_trees_layout = [os.path.join(BUILD, "ref-binarytrees-layout"), d]
        # The layout's fields one at a time: the type pointer, then the sizes.
        self.ref_trees_fields = {"trees-type": [os.path.join(BUILD, "ref-binarytrees-type"), d],
                                 "trees-header": [os.path.join(BUILD, "ref-binarytrees-header"), d]}
        self.ref_churn = [os.path.join(BUILD, "ref-churn"), "fixed64", str(CHURN_LIVE), ops]
        self.ref_churn_floor = {v: [os.path.join(BUILD, "ref-churn-floor"), v, str(CHURN_LIVE), ops]
                                for v in ("mixed", "fixed64")}
        # cycle with the full collections held off (threshold 2 never reached
        # in a run): the young generations' share of cycle's cost.
        self.trees_young_cmd = [BENCH, "--workload=trees", "--param", "variant=binarytrees",
                                "--param", "depth=" + d, "--collector=cycle",
                                "--gc-threshold=700,10,1000000",
                                "--allocator=" + ",".join(a for a in TREES_ALLOCATORS
                                                          if a in paths or a == "pool")]

    def jobs(self):
        """(label, function) for every measurement of a round; with
        --check-work only those behind a same-work proof."""
        out = [("bench trees", lambda: self.bench(self.trees_cmd)),
               ("bench tracing", lambda: self.bench(self.tracing_cmd)),
               ("bench churn", lambda: self.bench(self.churn_cmd))]
        if not self.args.check_work:
            out += [("bench empty", lambda: self.bench(self.empty_cmd)),
                    ("bench trees-young",
                     lambda: self.bench(self.trees_young_cmd, "cycle-young"))]
        if os.access("/usr/bin/python3", os.X_OK) and not self.args.check_work:
            out += [("program python3", lambda: self.program(self.python, "plain")),
                    ("program python3 recorded",
                     lambda: self.program(self.python_recorded, "recorded"))]
        for a in SYSTEM:
            if a in self.paths:
                out.append(("ref trees " + a, lambda a=a: self.ref(self.ref_trees, a)))
                out.append(("ref churn " + a, lambda a=a: self.ref(self.ref_churn, a)))
                out.append(("ref trees-layout " + a,
                            lambda a=a: self.ref(self.ref_trees_layout, a)))
                for kind, cmd in self.ref_trees_fields.items():
                    out.append(("ref %s %s" % (kind, a),
                                lambda a=a, cmd=cmd: self.ref(cmd, a)))
        out.append(("ref trees-gc", lambda: self.ref(self.ref_trees_gc, None)))
        out.append(("ref trees-gc-layout", lambda: self.ref(self.ref_trees_gc_layout, None)))
        for v, cmd in self.ref_churn_floor.items():
            out.append(("ref churn-floor " + v, lambda cmd=cmd: self.ref(cmd, "floor")))
        return out

    def cpython(self):
        """heaplab's cycle collector against CPython's per collected object,
        from scripts/cpython_compare.py's target line: the ratio."""
        with tempfile.TemporaryDirectory(prefix="heaplab-perf-") as d:
            run(self.cpython_cmd + ["--out=" + d])
            path = glob.glob(os.path.join(d, "*.json"))[0]
            out = run([sys.executable, os.path.join(TOP, "scripts", "cpython_compare.py"),
                       "--compare", path, "--repetitions=3", "--out=" + d, "--target",
                       str(LIMITS["cpython"])])
        m = re.search(r"takes ([0-9.]+)x CPython's __slots__-class time", out)
        if m is None:
            raise Failure("scripts/cpython_compare.py printed no target line")
        return float(m.group(1))

    def program(self, cmd, kind):
        """{("program", kind): row} of one program-mode run of python3 with every
        object from malloc; a recorded run's row carries the trace's
        bytes per event (from the results' context)."""
        with tempfile.TemporaryDirectory(prefix="heaplab-perf-") as d:
            run(cmd[:1] + ["--out=" + d] + cmd[1:], env=dict(os.environ, PYTHONMALLOC="malloc"))
            with open(glob.glob(os.path.join(d, "*.json"))[0]) as f:
                doc = json.load(f)
        row = dict(doc["benchmarks"][0])
        trace = doc["context"].get("recorded_trace")
        if kind == "recorded" and not trace:
            raise Failure("%s recorded no trace" % shlex.join(cmd))
        if trace:
            row["trace_bytes_per_event"] = trace["bytes_per_event"]
        row["ns_per_op"] = row["cpu_time"]  # the whole process's CPU time, ns
        return {("program", "python3", kind, "-"): row}

    def bench(self, cmd, collector=None):
        """{(workload, variant, allocator, collector): row} of one bench run;
        `collector` renames the collector in the keys (a run with other
        settings than the targets' cells, kept apart from them)."""
        with tempfile.TemporaryDirectory(prefix="heaplab-perf-") as d:
            run(cmd + ["--out=" + d])
            files = glob.glob(os.path.join(d, "*.json"))
            if len(files) != 1:
                raise Failure("%s left %d result files" % (shlex.join(cmd), len(files)))
            with open(files[0]) as f:
                rows = json.load(f)["benchmarks"]
        cells = {}
        for r in rows:
            if r.get("run_type") != "iteration":
                continue
            if "error_message" in r or r.get("error_occurred"):
                raise Failure("%s: %s failed: %s" % (shlex.join(cmd), r["name"],
                                                    r.get("error_message", "?")))
            cells[(r["workload"], r["variant"], r["allocator"], collector or r["collector"])] = r
        return cells

    def ref(self, cmd, allocator):
        """The reference program's figures under `allocator` (None: not preloaded
        and not checked: the GC_MALLOC program; "floor": not preloaded, and
        the program must say its own floor allocator served it)."""
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        if allocator not in (None, "floor") and self.paths.get(allocator):
            env["LD_PRELOAD"] = self.paths[allocator]
        out = run(cmd, env=env)
        fig = {"lines": out.splitlines()}
        for line in out.splitlines():
            words = line.split()
            if words and words[0] in ("nodes", "ops"):
                for k, v in zip(words[0::2], words[1::2]):
                    fig[k] = v
            elif words and words[0] == "malloc_from":
                fig["malloc_from"] = words[1]
        if allocator == "floor":
            if fig.get("malloc_from") != "floor":
                raise Failure("%s: served by %s, not its floor allocator" % (
                    shlex.join(cmd), fig.get("malloc_from", "?")))
        elif allocator is not None:
            want = os.path.basename(self.paths[allocator]) if self.paths.get(allocator) else "libc.so"
            if want not in fig.get("malloc_from", ""):
                raise Failure("%s under %s: malloc is served by %s, not %s" % (
                    shlex.join(cmd), allocator, fig.get("malloc_from", "?"), want))
        return fig


def same_work_trees(ref, row):
    """The Benchmarks Game check lines of the reference against heaplab's
    figures on one row: raise Failure when any differs, or when the
    reference printed fewer check lines than heaplab has checks (a
    reference that printed nothing would otherwise prove nothing)."""
    checks = [  # a check line of the reference, and heaplab's figure for it
        (r"(\d+)\t trees of depth (\d+)\t check: (\d+)", lambda m: "wl_check_d" + m.group(2)),
        (r"stretch tree of depth \d+\t check: (\d+)", lambda m: "wl_stretch_check"),
        (r"long lived tree of depth \d+\t check: (\d+)", lambda m: "wl_long_lived_check")]
    matched = 0
    for line in ref["lines"]:
        for pattern, key in checks:
            m = re.match(pattern, line)
            if not m:
                continue
            matched += 1
            value = int(m.group(m.lastindex))
            if row.get(key(m)) != value:
                raise Failure("%s: the reference's check %d, heaplab's %s" % (
                    key(m), value, row.get(key(m))))
    want = 2 + sum(1 for k in row if k.startswith("wl_check_d"))
    if matched != want:
        raise Failure("the reference printed %d check lines, heaplab's row has %d checks" % (
            matched, want))


def prove_same_work(plan, last):
    """Before any ratio is taken: every reference program did heaplab's
    work in this run, by the last row of each side (the binary-trees check
    lines, or churn's checksum).  Raise Failure naming the program when one
    did not."""
    tracing = ("bench", "trees", "binarytrees", "glibc", "tracing")
    pairs = []  # (program, its key, heaplab's row key, how to compare)
    for a in SYSTEM:
        manual = ("bench", "trees", "binarytrees", a, "manual")
        for kind in ["trees", "trees-layout"] + list(plan.ref_trees_fields):
            pairs.append(("ref-binary%s under %s" % (kind, a), ("ref", kind, a), manual, "trees"))
        pairs.append(("ref-churn fixed64 under %s" % a, ("ref", "churn", a),
                      ("bench", "churn", "fixed64", a, "manual"), "checksum"))
    pairs += [("ref-binarytrees-gc", ("ref", "trees-gc"), tracing, "trees"),
              ("ref-binarytrees-gc-layout", ("ref", "trees-gc-layout"), tracing, "trees")]
    for v in ("mixed", "fixed64"):
        pairs.append(("ref-churn-floor " + v, ("ref", "churn-floor", v),
                      ("bench", "churn", v, "pool", "manual"), "checksum"))
    for program, ref_key, row_key, how in pairs:
        ref, row = last.get(ref_key), last.get(row_key)
        if not ref or not row:
            continue
        try:
            if how == "trees":
                same_work_trees(ref, row)
            elif ref.get("checksum") != row["checksum"]:
                raise Failure("the reference's checksum %s, heaplab's %s" % (
                    ref.get("checksum"), row["checksum"]))
        except Failure as e:
            raise Failure("%s: %s" % (program, e))


def measure(args, paths):
    """Run the rounds and the one-off measurements; return (plan, medians,
    last), last holding each measurement's last row or reference output."""
    plan = Plan(args, paths)
    try:
        samples = {}  # key -> [ns per op]
        last = {}     # key -> the last row or reference output (for the checks)
        rng = random.Random(args.seed)
        for rnd in range(args.rounds):
            jobs = plan.jobs()
            rng.shuffle(jobs)
            for label, job in jobs:
                t0 = time.time()
                result = job()
                if label.startswith("bench") or label.startswith("program"):
                    for key, row in result.items():
                        samples.setdefault(("bench",) + key, []).append(row["ns_per_op"])
                        last[("bench",) + key] = row
                else:
                    key = tuple(["ref"] + label.split()[1:])
                    value = result.get("ns_per_node", result.get("ns_per_op"))
                    samples.setdefault(key, []).append(float(value))
                    last[key] = result
                print("  round %d/%d  %-22s %5.1f s" % (rnd + 1, args.rounds, label,
                                                        time.time() - t0), flush=True)
        medians = {k: statistics.median(v) for k, v in samples.items()}
        # Peak RSS does not depend on timing: fragadv runs once, for it alone.
        t0 = time.time()
        for key, row in ({} if args.check_work else plan.bench(plan.fragadv_cmd)).items():
            medians[("rss",) + key] = float(row["rss_peak"])
        if not args.check_work:
            print("  once      bench fragadv          %5.1f s" % (time.time() - t0), flush=True)
        if not args.no_cpython:
            t0 = time.time()
            medians[("cpython",)] = plan.cpython()
            print("  once      cpython comparison     %5.1f s" % (time.time() - t0), flush=True)
    finally:  # the recorder's script and trace, on success or failure
        shutil.rmtree(plan.record_dir, ignore_errors=True)
    return plan, medians, last, samples


def targets(plan, med, last):
    """The targets, each a dict: name, ratio, limit, met, figures, commands."""
    out = []
    q = quote

    def add(kind, name, num, den, num_what, den_what, commands, unit="ns"):
        if num is None or den is None:
            return
        ratio = num / den
        if unit == "MiB":
            figures = "%s %.1f MiB / %s %.1f MiB" % (num_what, num / 2**20, den_what, den / 2**20)
        else:
            figures = "%s %.2f %s / %s %.2f %s" % (num_what, num, unit, den_what, den, unit)
        out.append({"kind": kind, "name": name, "ratio": round(ratio, 3), "limit": LIMITS[kind],
                    "met": ratio <= LIMITS[kind], "figures": figures, "commands": commands})

    def bench(w, v, a, c):
        return med.get(("bench", w, v, a, c))

    for a in SYSTEM:
        if a not in plan.paths:
            continue
        pre = ("LD_PRELOAD=%s " % plan.paths[a]) if plan.paths[a] else ""
        add("tax", "harness tax: trees/binarytrees manual, " + a,
            bench("trees", "binarytrees", a, "manual"), med.get(("ref", "trees", a)),
            "heaplab", "plain C", [q(plan.trees_cmd), pre + q(plan.ref_trees)])
        add("tax", "harness tax: churn/fixed64, " + a, bench("churn", "fixed64", a, "manual"),
            med.get(("ref", "churn", a)), "heaplab", "plain C",
            [q(plan.churn_cmd), pre + q(plan.ref_churn)])
    add("tax", "harness tax: trees/binarytrees tracing vs GC_MALLOC",
        bench("trees", "binarytrees", "glibc", "tracing"), med.get(("ref", "trees-gc")),
        "heaplab", "plain C", [q(plan.tracing_cmd), q(plan.ref_trees_gc)])
    for a in TREES_ALLOCATORS:
        manual = bench("trees", "binarytrees", a, "manual")
        for c in ("refcount", "cycle"):
            add(c, "%s / manual: trees/binarytrees, %s" % (c, a),
                bench("trees", "binarytrees", a, c), manual, c, "manual", [q(plan.trees_cmd)])
    for v in ("mixed", "fixed64"):
        pool = bench("churn", v, "pool", "manual")
        others = {a: bench("churn", v, a, "manual") for a in ALL_SIX if a != "pool"}
        others = {a: t for a, t in others.items() if t is not None}
        if others:
            best = min(others, key=others.get)
            add("fastest", "pool fastest of six: churn/%s (vs %s, the fastest other)" % (v, best),
                pool, others[best], "pool", best, [q(plan.churn_cmd)])
        add("pool_vs_mimalloc", "pool / mimalloc: churn/" + v, pool, others.get("mimalloc"),
            "pool", "mimalloc", [q(plan.churn_cmd)])
    add("fragadv_rss", "pool / mimalloc: peak RSS on fragadv",
        med.get(("rss", "fragadv", "default", "pool", "manual")),
        med.get(("rss", "fragadv", "default", "mimalloc", "manual")), "pool", "mimalloc",
        [q(plan.fragadv_cmd)], unit="MiB")
    add("empty_ns", "harness: the empty workload, ns per operation / 1 ns",
        bench("empty", "default", "glibc", "manual"), 1.0, "empty", "limit",
        [q(plan.empty_cmd)])
    plain, recorded = (med.get(("bench", "program", "python3", k, "-")) for k in
                       ("plain", "recorded"))
    if plain and recorded:
        # The script lives in a temporary directory: name it for the reader.
        rq = lambda argv: q(argv).replace(plan.record_dir, "TMP") + \
            "   # TMP/objects.py: scripts/perf.py's RECORD_SCRIPT"
        add("record_slowdown", "recorder: python3 CPU time recorded / not recorded",
            recorded / 1e6, plain / 1e6, "recorded", "plain", [
                "PYTHONMALLOC=malloc " + rq(plan.python_recorded),
                "PYTHONMALLOC=malloc " + rq(plan.python)], unit="ms")
        bpe = last[("bench", "program", "python3", "recorded", "-")]["trace_bytes_per_event"]
        add("trace_bytes", "recorder: trace bytes per event / 1", bpe, 1.0, "trace", "limit",
            ["PYTHONMALLOC=malloc " + rq(plan.python_recorded)], unit="B")
    if ("cpython",) in med:
        r = med[("cpython",)]
        out.append({"kind": "cpython", "name": "cycle (pool) / CPython __slots__ class, per "
                    "collected object, pairs of 1,000,000", "ratio": r,
                    "limit": LIMITS["cpython"], "met": r <= LIMITS["cpython"],
                    "figures": "scripts/cpython_compare.py's ratio of medians (3 repetitions)",
                    "commands": [q(plan.cpython_cmd), "scripts/cpython_compare.py --compare "
                                 "<that run>.json --repetitions=3 --target 0.5"]})
    return out


def breakdown(plan, med):
    """Where the trees tax goes, per system allocator (not targets): the
    object model's cost in plain C (the reference with heaplab's node
    layout and cookie checks against the two-pointer one), field by field
    (the type pointer, then nrefs and data_size, then the cookie: what each
    one costs is the step it adds), and the harness's own (heaplab under
    manual against the layout reference)."""
    out = []
    for a in SYSTEM:
        plain, layout = med.get(("ref", "trees", a)), med.get(("ref", "trees-layout", a))
        typed, header = med.get(("ref", "trees-type", a)), med.get(("ref", "trees-header", a))
        heaplab = med.get(("bench", "trees", "binarytrees", a, "manual"))
        if plain and layout and typed and header and heaplab:
            pre = ("LD_PRELOAD=%s " % plan.paths[a]) if plan.paths[a] else ""
            out.append({"allocator": a, "plain_ns": round(plain, 2),
                        "command": pre + quote(plan.ref_trees_layout),
                        "type_ns": round(typed, 2), "header_ns": round(header, 2),
                        "layout_ns": round(layout, 2), "heaplab_ns": round(heaplab, 2),
                        "object_model": round(layout / plain, 3),
                        "harness": round(heaplab / layout, 3)})
    return out


def spread(parts):
    """Issue 13's opening measure (not a target): how far apart the system
    allocators are on trees/binarytrees, in the two-pointer C program and
    through heaplab under manual.  The pair is the slowest and the fastest
    in plain C; every nanosecond of overhead common to both rows narrows the
    second ratio.  None without two allocators."""
    if len(parts) < 2:
        return None
    fast = min(parts, key=lambda p: p["plain_ns"])
    slow = max(parts, key=lambda p: p["plain_ns"])
    return {"slow": slow["allocator"], "fast": fast["allocator"],
            "plain": round(slow["plain_ns"] / fast["plain_ns"], 3),
            "heaplab": round(slow["heaplab_ns"] / fast["heaplab_ns"], 3)}


def spread_line(sp):
    """One line for the console and the README."""
    return ("%s against %s on trees/binarytrees: %.2fx in plain C, %.2fx through heaplab under "
            "manual" % (sp["slow"], sp["fast"], sp["plain"], sp["heaplab"]))


def bounds(plan, med, samples):
    """The best ratio any strategy could reach for the targets whose limits
    may lie out of reach, measured in the same rounds (not targets): a list
    of dicts: name, limit, bound (ratio of medians), bound_low (the least
    numerator over the greatest denominator of the rounds), reachable,
    how, command.  A limit is called out of reach only when even bound_low
    is above it: a gap inside the rounds' spread proves nothing."""
    out = []
    q = quote

    def add(kind, name, num_key, den_key, how, command):
        num, den = med.get(num_key), med.get(den_key)
        if num is None or den is None:
            return
        low = min(samples[num_key]) / max(samples[den_key])
        out.append({"name": name, "limit": LIMITS[kind], "bound": round(num / den, 3),
                    "bound_low": round(low, 3), "reachable": low <= LIMITS[kind], "how": how,
                    "command": command})

    for v in ("mixed", "fixed64"):
        add("pool_vs_mimalloc", "pool / mimalloc: churn/" + v, ("ref", "churn-floor", v),
            ("bench", "churn", v, "mimalloc", "manual"),
            "the least allocator in plain C (ref-churn-floor) / heaplab under mimalloc",
            q(plan.ref_churn_floor[v]))
    for a in SYSTEM:
        pre = ("LD_PRELOAD=%s " % plan.paths[a]) if plan.paths.get(a) else ""
        add("tax", "harness tax: trees/binarytrees manual, " + a, ("ref", "trees-layout", a),
            ("ref", "trees", a), "heaplab's node layout in plain C, no harness / two-pointer C "
            "(a bound while the object model is kept)", pre + q(plan.ref_trees_layout))
    add("tax", "harness tax: trees/binarytrees tracing vs GC_MALLOC", ("ref", "trees-gc-layout"),
        ("ref", "trees-gc"), "heaplab's node layout under GC_MALLOC, no harness / two-pointer "
        "GC_MALLOC (a bound while the object model is kept)", q(plan.ref_trees_gc_layout))
    for a in TREES_ALLOCATORS:
        add("cycle", "cycle / manual: trees/binarytrees, " + a,
            ("bench", "trees", "binarytrees", a, "refcount"),
            ("bench", "trees", "binarytrees", a, "manual"),
            "refcount / manual (cycle is counting plus collections)", q(plan.trees_cmd))
    return out


def cycle_parts(plan, med):
    """Where cycle's time goes on trees/binarytrees, per allocator (not
    targets): ns per node under manual, refcount, cycle with CPython's full
    collections held off, and cycle, from the same rounds."""
    out = []
    for a in TREES_ALLOCATORS:
        ns = {c: med.get(("bench", "trees", "binarytrees", a, c))
              for c in ("manual", "refcount", "cycle-young", "cycle")}
        if all(ns.values()):
            out.append(dict({"allocator": a}, **{c: round(v, 2) for c, v in ns.items()}))
    return out


def md_table(intro, head, align, rows):
    """A markdown table: a blank line, intro, a blank line, the header row
    and its alignment row, then the rows (lists of cells already formatted)."""
    lines = ["", intro, ""] if intro else []
    lines += ["| " + " | ".join(head) + " |", "| " + " | ".join(align) + " |"]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def markdown(ts, context, parts, bnds, cparts, plan):
    lines = md_table(None, ["target", "measured", "limit", "verdict", "figures"],
                     ["---", "---:", "---:", "---", "---"],
                     [[t["name"], "%.2fx" % t["ratio"], "%.2fx" % t["limit"],
                       "met" if t["met"] else "**not met**", t["figures"]] for t in ts])
    if parts:
        lines += md_table(
            "Where the trees/binarytrees tax goes (not targets), ns per node: plain C with "
            "two-pointer nodes (16 bytes), then with heaplab's node fields added one at a time "
            "(`build/ref-binarytrees-type`: the type pointer, 24 bytes; "
            "`build/ref-binarytrees-header`: nrefs and data_size, 32 bytes; "
            "`build/ref-binarytrees-layout`: the cookie, 40 bytes, checked on every walk), and "
            "heaplab under `manual`; each column's step over the one before is what that field "
            "costs:",
            ["allocator", "two-pointer C", "+ type", "+ nrefs, data_size", "+ cookie (layout C)",
             "heaplab", "object model", "harness"],
            ["---"] + ["---:"] * 7,
            [[p["allocator"]] + ["%.2f" % p[k] for k in ("plain_ns", "type_ns", "header_ns",
                                                          "layout_ns", "heaplab_ns")] +
             ["%.2fx" % p[k] for k in ("object_model", "harness")] for p in parts])
        sp = spread(parts)
        if sp:
            lines += ["", "How far apart the allocators stay through the harness (not a target): " +
                      spread_line(sp) + "."]
    if bnds:
        lines += md_table(
            "Bounds (not targets): the best ratio any strategy could reach, measured in the same "
            "rounds; a limit is out of reach on this machine when even the least bound of the "
            "rounds (the fastest numerator over the slowest denominator) is above it:",
            ["target", "limit", "bound", "least of the rounds", "within reach", "what bounds it"],
            ["---", "---:", "---:", "---:", "---", "---"],
            [[b["name"], "%.2fx" % b["limit"], "%.2fx" % b["bound"], "%.2fx" % b["bound_low"],
              "yes" if b["reachable"] else "**no**", b["how"]] for b in bnds])
    if cparts:
        lines += md_table(
            "Where cycle's time goes on trees/binarytrees, ns per node (not targets; "
            "\"no full collections\": `%s`):" % " ".join(
                a for a in plan.trees_young_cmd[1:] if a.startswith("--gc")),
            ["allocator", "manual", "refcount", "cycle, no full collections", "cycle"],
            ["---"] + ["---:"] * 4,
            [[c["allocator"]] + ["%.2f" % c[k] for k in ("manual", "refcount", "cycle-young",
                                                       "cycle")] for c in cparts])
    lines.append("")
    lines.append("Measured by `make perf` (scripts/perf.py, %d round(s), medians; %s) on %s, %s." % (
        context["rounds"], context["sizes"], context["cpu_model"], context["date"]))
    lines.append("Commands, one round:")
    lines.append("")
    seen = []
    for t in ts:
        for c in t["commands"]:
            if c not in seen:
                seen.append(c)
    for c in [p["command"] for p in parts] + [b["command"] for b in bnds] + \
            ([quote(plan.trees_young_cmd)] if cparts else []):
        if c not in seen:
            seen.append(c)
    lines.extend("    " + c for c in seen)
    return "\n".join(lines) + "\n"


def update_readme(table):
    path = os.path.join(TOP, "README.md")
    with open(path) as f:
        text = f.read()
    begin, end = "<!-- perf:begin -->", "<!-- perf:end -->"
    if begin not in text or end not in text:
        raise Failure("README.md has no %s ... %s block to update" % (begin, end))
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(head + begin + "\n" + table + end + tail)
    os.replace(tmp, path)


def main(argv):
    p = argparse.ArgumentParser(description="heaplab's performance targets, side by side")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--depth", type=int, default=18)
    p.add_argument("--churn-ops", type=int, default=20000000)
    p.add_argument("--seed", type=int, default=1, help="of each round's order")
    p.add_argument("--out", default=os.path.join(TOP, "results", "perf"))
    p.add_argument("--update-readme", action="store_true")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is not met")
    p.add_argument("--no-cpython", action="store_true",
                   help="leave out the comparison with CPython (about a minute)")
    p.add_argument("--check-work", action="store_true",
                   help="one round at the given sizes, no CPython, nothing written: only "
                   "the proofs that each reference program does heaplab's work (the test "
                   "suite runs this at small sizes)")
    args = p.parse_args(argv)
    if args.check_work:
        args.rounds, args.no_cpython = 1, True
    if args.rounds < 1 or not 4 <= args.depth <= 22 or args.churn_ops < 1:
        p.error("--rounds must be >= 1, --depth 4-22 and --churn-ops >= 1")
    try:
        paths = preload_paths()
        print("heaplab perf: %d round(s) on %s; trees depth %d, churn %d ops" % (
            args.rounds, cpython_compare.cpu_model("unknown CPU"), args.depth,
            args.churn_ops), flush=True)
        plan, med, last, samples = measure(args, paths)
        prove_same_work(plan, last)
        ts = targets(plan, med, last)
        parts = breakdown(plan, med)
        bnds = bounds(plan, med, samples)
        cparts = cycle_parts(plan, med)
    except Failure as e:
        print("perf: %s" % e, file=sys.stderr)
        return 1
    if args.check_work:
        print("same work: the binary-trees checks of ref-binarytrees, ref-binarytrees-type, "
              "-header and -layout (under each system allocator installed here: %s), "
              "ref-binarytrees-gc and -gc-layout and heaplab's rows agree; ref-churn's and ref-churn-floor's checksums equal "
              "heaplab's churn checksums" % ", ".join(a for a in SYSTEM if a in paths))
        return 0
    context = {"cpu_model": cpython_compare.cpu_model("unknown CPU"),
               "date": time.strftime("%Y-%m-%d"),
               "rounds": args.rounds, "load_avg": os.getloadavg(),
               "sizes": "trees depth %d, churn %d ops with %d live" % (
                   args.depth, args.churn_ops, CHURN_LIVE)}
    print()
    width = max(len(t["name"]) for t in ts)
    for t in ts:
        print("%-*s  %5.2fx  (limit %.2fx)  %-7s  %s" % (
            width, t["name"], t["ratio"], t["limit"], "met" if t["met"] else "NOT MET",
            t["figures"]))
        for c in t["commands"]:
            print("%-*s    $ %s" % (width, "", c))
    if parts:
        print("\nwhere the trees tax goes (ns per node): the two-pointer C node, then heaplab's "
              "fields added one at a time (type, nrefs/data_size, cookie = the layout C node); "
              "object model = layout C / two-pointer C, harness = heaplab / layout C")
        for p in parts:
            print("  %-9s two-pointer %6.2f  +type %6.2f  +sizes %6.2f  +cookie %6.2f  "
                  "heaplab %6.2f  object model %.2fx  harness %.2fx" % (
                      p["allocator"], p["plain_ns"], p["type_ns"], p["header_ns"],
                      p["layout_ns"], p["heaplab_ns"], p["object_model"], p["harness"]))
        sp = spread(parts)
        if sp:
            print("  spread: " + spread_line(sp))
    if bnds:
        print("\nbounds: the best ratio any strategy could reach here (not targets)")
        for b in bnds:
            print("  %-*s  %5.2fx  (least %.2fx, limit %.2fx)  %-12s  %s" % (
                width, b["name"], b["bound"], b["bound_low"], b["limit"],
                "within reach" if b["reachable"] else "OUT OF REACH", b["how"]))
    if cparts:
        print("\nwhere cycle's time goes on trees/binarytrees (ns per node): young = cycle with "
              "the full collections held off")
        for c in cparts:
            print("  %-9s manual %6.2f  refcount %6.2f  young %6.2f  cycle %6.2f" % (
                c["allocator"], c["manual"], c["refcount"], c["cycle-young"], c["cycle"]))
    os.makedirs(args.out, exist_ok=True)
    table = markdown(ts, context, parts, bnds, cparts, plan)
    for name, text in (("perf.json", json.dumps({"context": context, "targets": ts, "breakdown": parts,
                                                  "spread": spread(parts),
                                                  "bounds": bnds, "cycle_parts": cparts,
                                                  "medians_ns": {"/".join(k): v for k, v in
                                                                 med.items()}}, indent=1)),
                       ("perf.md", table)):
        tmp = os.path.join(args.out, name + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, os.path.join(args.out, name))
    print("\n%d of %d targets met; load average at the end %.2f; results: %s" % (
        sum(t["met"] for t in ts), len(ts), os.getloadavg()[0], os.path.join(args.out, "perf.md")))
    if args.update_readme:
        try:
            update_readme(table)
        except Failure as e:
            print("perf: %s" % e, file=sys.stderr)
            return 1
        print("README.md: targets table updated")
    return 1 if args.strict and not all(t["met"] for t in ts) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
