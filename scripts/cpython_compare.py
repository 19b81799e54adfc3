#!/usr/bin/env python3
"""cpython_compare.py - two of heaplab's workloads, reproduced in CPython.

Runs the shapes of heaplab's `cycles` (every variant) and `genlist` workloads
in the CPython that runs this script, with its own object allocator
(pymalloc) and cyclic collector, and writes the results in heaplab's format:
Google Benchmark's JSON shape plus a CSV with heaplab's core columns, so the
rows sit beside the C strategies in tables and plots.

    scripts/cpython_compare.py [--quick] [--workload=cycles,genlist] [--out=DIR]
    scripts/cpython_compare.py --compare HEAPLAB_JSON [--cpython-json FILE]

Like heaplab, every cell runs in a process of its own: one untimed pass under
tracemalloc for the memory figures (live_peak, leaked_bytes), then one fresh
process per timed repetition, without tracemalloc, which also gives that
run's resident set (rss_base, rss_peak from getrusage, rss_end).

Standard library only.  See docs/cpython.md.
"""

import argparse
import csv
import gc
import io
import json
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import time

try:
    import resource
except ImportError:  # not on every platform; rss_peak is then omitted
    resource = None

ALLOCATOR = "cpython-pymalloc"
COLLECTORS = ("cpython-gc", "cpython-refcount")

# heaplab's CSV columns (harness/results.c csv_columns), in its order.
CSV_COLUMNS = (
    "status", "error_message", "workload", "variant", "allocator", "allocator_version",
    "collector", "params", "seed", "repetition_index", "threads", "ops",
    "seconds", "ns_per_op", "ops_per_sec", "rss_base", "rss_peak", "rss_end",
    "live_peak", "fragmentation", "leaked_bytes", "allocs", "frees", "reallocs",
    "bytes_allocated", "checksum",
)

PARAM_MAX = 1_000_000_000
# fragmentation is left out below this live_peak, as heaplab's harness does
# (HL_FRAGMENTATION_MIN_LIVE in harness/cell.c; docs/metrics.md says why).
FRAGMENTATION_MIN_LIVE = 1 << 20

# The shapes of heaplab's cycles variants (workloads/cycles.c): nodes, the
# reference fields of every node (heaplab's slots f0, f1, ...), and the links
# (node, field, target) in heaplab's order of stores.
SHAPES = {
    "pairs": (2, ("other",), ((0, 0, 1), (1, 0, 0))),
    "rings": (8, ("next",), tuple((k, 0, (k + 1) % 8) for k in range(8))),
    "dlist": (16, ("next", "prev"),
              tuple(sorted([(k, 0, k + 1) for k in range(15)] + [(k + 1, 1, k) for k in range(15)]))),
    "tree": (15, ("left", "right", "parent"),
             tuple(sorted([(k, 0, 2 * k + 1) for k in range(7)] + [(k, 1, 2 * k + 2) for k in range(7)]
                          + [(c, 2, (c - 1) // 2) for c in range(1, 15)]))),
}
SHAPE_TEXT = {"pairs": "2-cycles (a.other = b; b.other = a)", "rings": "rings of 8 objects",
              "dlist": "doubly linked lists of 16 objects (next, prev)",
              "tree": "binary trees of 15 objects (left, right, parent)"}


def cycles_variants():
    """heaplab's names, and each again with -slots (a __slots__ class)."""
    out = {}
    for fin in ("", "-fin"):
        for shape in SHAPES:
            what = SHAPE_TEXT[shape] + (", with __del__" if fin else "")
            out[shape + fin] = "%s of a plain class" % what
            out[shape + fin + "-slots"] = "%s of a __slots__ class" % what
    return out


# Workload descriptions: variants, parameters (name, default, quick, min,
# max) in the order they appear in the params string.
WORKLOADS = {
    "cycles": {
        "variants": cycles_variants(),
        # heaplab's cycles parameters, defaults and --quick values.
        "params": (("ops", 200_000, 10_000, 1, PARAM_MAX), ("batch", 100, 100, 1, PARAM_MAX),
                   ("collect", 0, 0, 0, 1)),
        "collectors": ("cpython-gc",),
    },
    "genlist": {
        "variants": {
            "list": "materialise N small objects in a list, then sum their values",
            "generator": "stream the same N objects through a generator and sum them",
        },
        "params": (("items", 1_000_000, 100_000, 1, PARAM_MAX),),
        "collectors": ("cpython-gc", "cpython-refcount"),
    },
}


def squash(text):
    return " ".join(str(text).split())


def allocator_version():
    return "CPython %s pymalloc" % squash(sys.version)


# ------------------------------------------------------------ workloads --

class Item:
    """genlist's item: one seeded value."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


MASK64 = (1 << 64) - 1


FINALIZED = [0]  # __del__ calls of the -fin classes


def finalize(self):
    """The -fin classes' __del__: a small fixed amount of work, as heaplab's
    finalizer (count the call)."""
    FINALIZED[0] += 1


def parse_cycles_variant(variant):
    """(shape, slots, fin) of a cycles variant name."""
    slots = variant.endswith("-slots")
    base = variant[:-len("-slots")] if slots else variant
    fin = base.endswith("-fin")
    return (base[:-len("-fin")] if fin else base), slots, fin


def node_class(shape, slots, fin):
    """A fresh node class: a plain class (3.11 keeps its attributes in inline
    values, no __dict__ object) or one with __slots__ for the shape's fields;
    with fin, a __del__."""
    ns = {"__module__": __name__}
    if slots:
        ns["__slots__"] = SHAPES[shape][1]
    if fin:
        ns["__del__"] = finalize
    return type("Node_%s%s%s" % (shape, "_fin" if fin else "", "_slots" if slots else ""), (), ns)


def structure_builder(shape):
    """build(cls, keep, i): one structure as heaplab builds it (every node
    allocated first, then the links stored, then its root kept in keep[i]),
    compiled from the shape table.  It allocates nothing but the nodes, and
    its locals die when it returns, as heaplab releases its n[]."""
    nodes, fields, links = SHAPES[shape]
    lines = ["def build(cls, keep, i):"]
    lines += ["    n%d = cls()" % k for k in range(nodes)]
    lines += ["    n%d.%s = n%d" % (k, fields[f], t) for k, f, t in links]
    lines.append("    keep[i] = n0")
    scope = {}
    exec("\n".join(lines), scope)
    return scope["build"]


def cycles_prepare(variant, params):
    """Everything one cycles run needs, made before it (the class, the
    builder, the list of roots), so that the run allocates nothing the
    collector tracks except the nodes: CPython's generation-0 count then
    moves exactly as heaplab's.  Returns (run, nodes per structure)."""
    shape, slots, fin = parse_cycles_variant(variant)
    cls, build = node_class(shape, slots, fin), structure_builder(shape)
    nodes = SHAPES[shape][0]
    ops, batch, collect = params["ops"], params["batch"], params["collect"]
    batch = min(batch, ops)
    keep = [None] * batch  # heaplab's roots array (untracked there; made before the run here)

    def run():
        """Builds ops structures in batches of batch, each batch kept, then
        dropped.  collect=1: automatic collection off (gc.disable(), heaplab's
        --gc-threshold=0,0,0) and one timed gc.collect() per batch, which
        must find every node built; collect=0: the collector's own triggers
        (its thresholds), no collection called here."""
        clock, cpu = time.perf_counter_ns, time.process_time_ns
        build_ns = build_cpu_ns = collect_ns = collected = batches = 0
        FINALIZED[0] = 0
        if collect:
            gc.disable()  # the caller collected just before
        background = len(gc.get_objects()) if collect else None
        done = 0
        while done < ops:
            n = batch if ops - done > batch else ops - done  # min() would allocate a tuple
            c0, t0 = cpu(), clock()
            for i in range(n):
                build(cls, keep, i)
            t1, c1 = clock(), cpu()
            build_ns += t1 - t0
            build_cpu_ns += c1 - c0
            for i in range(n):
                keep[i] = None  # only the cycles keep the nodes alive now
            if collect:
                t2 = clock()
                got = gc.collect()
                collect_ns += clock() - t2
                if got != nodes * n:
                    raise AssertionError("gc.collect() collected %d objects, %d were built in "
                                         "cycles" % (got, nodes * n))
                collected += got
                batches += 1
            done += n
        figures = {"structures": ops, "objects": nodes * ops,
                   "build_ns": build_ns, "build_ns_per_object": build_ns / (nodes * ops)}
        if collect:
            figures.update({"collect_ns": collect_ns, "collect_objects": collected,
                            "collect_ns_per_object": collect_ns / collected,
                            "collections": batches, "background_objects": background})
        if fin:
            figures["finalized"] = FINALIZED[0]
        return {
            "ops": ops,
            "wall_ns": build_ns,
            "cpu_ns": build_cpu_ns,
            "checksum": (nodes * ops) & MASK64,
            "objects_allocated": nodes * ops,
            "objects_freed": collected if collect else None,
            "figures": figures,
        }
    return run, nodes


def genlist_run(variant, params, seed):
    n = params["items"]
    draw = random.Random(seed).getrandbits
    clock = time.perf_counter_ns
    cpu = time.process_time_ns
    total = 0
    c0, t0 = cpu(), clock()
    if variant == "list":
        items = [Item(draw(32)) for _ in range(n)]
        for it in items:
            total += it.value
        del items, it
    else:
        def stream():
            for _ in range(n):
                yield Item(draw(32))
        for it in stream():
            total += it.value
        del it
    t1, c1 = clock(), cpu()
    return {
        "ops": n,
        "wall_ns": t1 - t0,
        "cpu_ns": c1 - c0,
        "checksum": total & MASK64,
        "figures": {},
    }


# ------------------------------------------------------------- one cell --

def rss_now():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def pymalloc_in_use():
    """True when this process's object allocator is pymalloc, proven by
    sys._debugmallocstats(), which describes pymalloc's pools only when it is
    the allocator.  None when that cannot be told."""
    if not hasattr(sys, "_debugmallocstats"):
        return None
    import tempfile
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as tmp:
            os.dup2(tmp.fileno(), 2)
            try:
                sys._debugmallocstats()
            finally:
                os.dup2(saved, 2)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", "replace")
    finally:
        os.close(saved)
    return "Small block threshold" in text


def gc_stats():
    return [(s["collections"], s["collected"], s["uncollectable"]) for s in gc.get_stats()]


def run_cell(spec):
    """Runs one pass of one cell in this (fresh) process; returns its figures."""
    if pymalloc_in_use() is False:
        raise RuntimeError("allocator %s requested, but this CPython's object allocator is not "
                           "pymalloc (a debug or free-threaded build?)" % ALLOCATOR)
    workload, variant, mode = spec["workload"], spec["variant"], spec["mode"]
    params = spec["params"]
    refcount_only = spec["collector"] == "cpython-refcount"
    policy = workload == "cycles" and not params["collect"]  # the thresholds decide
    gc.collect()
    if refcount_only:
        gc.disable()
    threshold = "0,0,0" if refcount_only or (workload == "cycles" and not policy) else \
        ",".join(str(t) for t in gc.get_threshold())

    def go(p=params):
        if workload == "cycles":
            return cycles_prepare(variant, p)[0]()
        return genlist_run(variant, p, spec["seed"])

    out = {"gc_threshold": threshold}
    if mode == "memory":
        import tracemalloc

        def traced(fn):
            """(peak, kept, text) of one call of fn, as tracemalloc sees it:
            peak bytes above the start; kept bytes still traced after it
            returned and a full collection ran (which also empties the
            interpreter's free lists), its result excepted, which is kept
            as the one string text."""
            gc.collect()
            if refcount_only:
                gc.disable()
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            text = json.dumps(fn())
            before = tracemalloc.get_traced_memory()[0]
            found = gc.collect()
            current, peak = tracemalloc.get_traced_memory()
            if refcount_only and found:
                current = before  # garbage that reference counting alone left behind
            return peak - base, current - base - sys.getsizeof(text), text

        tracemalloc.start()
        # A small warm-up first, so that first-use caches are not counted as
        # kept; then the same steps around a call that does nothing, which
        # measures what the measuring itself keeps (the ints it reads).
        small = {k: min(v, 1000) for k, v in params.items()}
        traced(lambda: go(small))
        warm = json.loads(traced(lambda: go(small))[2])
        _, kept_by_measuring, _ = traced(lambda: warm)
        peak, kept, text = traced(go)
        tracemalloc.stop()
        out["live_peak"] = peak
        out["leaked_bytes"] = max(0, kept - kept_by_measuring)
        out["result"] = json.loads(text)
        return out

    pauses = []
    started = [0]

    def on_gc(phase, info):
        if phase == "start":
            started[0] = time.perf_counter_ns()
        else:
            pauses.append(time.perf_counter_ns() - started[0])

    rss_base = rss_now()
    go_timed = go
    discount = 0
    if workload == "cycles":
        go_timed, nodes = cycles_prepare(variant, params)
    before = gc_stats()
    if policy:
        # Start as heaplab's collector starts: the generation counts at 0 and
        # no long-lived objects.  gc.freeze() moves every object tracked so
        # far (the interpreter's, this script's, `before`) out of the
        # collector's sight, and one full collection of the then empty
        # generations resets the counts and long_lived_total; that setup
        # collection is taken off the deltas below.
        gc.freeze()
        discount = gc.collect()
    gc.callbacks.append(on_gc)
    try:
        res = go_timed()
        if policy:
            # heaplab's harness runs one full collection after the workload
            # dropped everything; its rows count it, so this side does too.
            gc.collect()
    finally:
        gc.callbacks.remove(on_gc)
    after = gc_stats()
    if policy:
        gc.unfreeze()
        after[2] = (after[2][0] - 1, after[2][1] - discount, after[2][2])
    rss_end = rss_now()
    out["rss_base"], out["rss_end"] = rss_base, rss_end
    if resource is not None:
        # Peak of this process, which ran nothing but this one pass.  The
        # kernel's high-water mark is read from approximate per-CPU counters
        # and can trail /proc/self/statm by a few pages; a peak is never
        # below a reading taken in the same run.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        out["rss_peak"] = max([peak] + [r for r in (rss_base, rss_end) if r is not None])
    out["gc"] = {"collections": [a[0] - b[0] for a, b in zip(after, before)],
                 "collected": [a[1] - b[1] for a, b in zip(after, before)],
                 "uncollectable": [a[2] - b[2] for a, b in zip(after, before)]}
    out["pauses"] = pauses
    out["result"] = res
    if workload == "cycles":
        # Every node is garbage of a collection: reference counting frees
        # none of them (they are all in cycles), so the collections must
        # have found exactly the nodes built.
        found = sum(out["gc"]["collected"])
        if found != nodes * res["ops"]:
            raise AssertionError("the collections freed %d objects, %d were built in cycles"
                                 % (found, nodes * res["ops"]))
        res["objects_freed"] = found
    return out


def child_main(spec_text):
    try:
        out = run_cell(json.loads(spec_text))
    except Exception as e:  # reported to the parent as the cell's error
        print("%s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


def spawn(spec, timeout):
    """Runs one pass in a fresh interpreter (-I: no PYTHON* variables such as
    PYTHONMALLOC or PYTHONTRACEMALLOC reach it).  Returns (result, error)."""
    cmd = [sys.executable, "-I", os.path.abspath(__file__), "--run-cell", json.dumps(spec)]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timed out after %d s" % timeout
    err = p.stderr.decode("utf-8", "replace").strip()
    if p.returncode != 0:
        last = err.splitlines()[-1] if err else "exit status %d" % p.returncode
        if p.returncode < 0:
            last = "killed by signal %d" % -p.returncode
        return None, last
    try:
        return json.loads(p.stdout.decode().strip().splitlines()[-1]), None
    except (ValueError, IndexError):
        return None, "the cell wrote no results"


# ------------------------------------------------------------ the rows --

def params_text(workload, params):
    return ",".join("%s=%d" % (name, params[name]) for name, *_ in WORKLOADS[workload]["params"])


def add_if(row, key, value):
    if value is not None:
        row[key] = value


def pause_percentile(sorted_pauses, q):
    i = min(len(sorted_pauses) - 1, int(q * len(sorted_pauses)))
    return sorted_pauses[i]


def make_row(cell, rep, reps, mem, timed):
    base = "%s/%s/%s/%s" % (cell["workload"], cell["variant"], ALLOCATOR, cell["collector"])
    res = timed["result"]
    ops = res["ops"]
    name = "%s/iterations:%d/real_time" % (base, ops)
    real = res["wall_ns"] / ops
    row = {
        "name": name, "family_index": 0, "per_family_instance_index": 0, "run_name": name,
        "run_type": "iteration", "repetitions": reps, "repetition_index": rep, "threads": 1,
        "iterations": ops, "real_time": real, "cpu_time": res["cpu_ns"] / ops,
        "time_unit": "ns", "items_per_second": 1e9 / real if real > 0 else None,
    }
    g = timed["gc"]
    for gen in range(min(3, len(g["collections"]))):
        row["gc_collections_gen%d" % gen] = g["collections"][gen]
        row["gc_collected_gen%d" % gen] = g["collected"][gen]
        row["gc_uncollectable_gen%d" % gen] = g["uncollectable"][gen]
    pauses = sorted(timed["pauses"])
    row["gc_pauses"] = len(pauses)
    row["gc_pause_total_ns"] = sum(pauses)
    if pauses:
        row["gc_pause_max_ns"] = pauses[-1]
        row["gc_pause_p50_ns"] = pause_percentile(pauses, 0.50)
        row["gc_pause_p99_ns"] = pause_percentile(pauses, 0.99)
    row.update({
        "workload": cell["workload"], "variant": cell["variant"], "allocator": ALLOCATOR,
        "allocator_version": allocator_version(), "collector": cell["collector"],
        "params": params_text(cell["workload"], cell["params"]), "seed": cell["seed"],
        "gc_threshold": timed["gc_threshold"],
        "checksum": "%016x" % res["checksum"],
    })
    if real > 0:
        row.update({"ops": ops, "seconds": res["wall_ns"] / 1e9, "ns_per_op": real,
                    "ops_per_sec": 1e9 / real})
    add_if(row, "rss_base", timed.get("rss_base"))
    add_if(row, "rss_peak", timed.get("rss_peak"))
    add_if(row, "rss_end", timed.get("rss_end"))
    if mem is not None:
        row["live_peak"] = mem["live_peak"]
        if row.get("rss_base") is not None and row.get("rss_peak") is not None \
                and mem["live_peak"] >= FRAGMENTATION_MIN_LIVE:
            row["fragmentation"] = (row["rss_peak"] - row["rss_base"]) / mem["live_peak"]
        row["leaked_bytes"] = mem["leaked_bytes"]
    add_if(row, "objects_allocated", res.get("objects_allocated"))
    add_if(row, "objects_freed", res.get("objects_freed"))
    for k, v in res["figures"].items():
        row["wl_" + k] = v
    return {k: v for k, v in row.items() if v is not None}


def failed_row(cell, reps, error):
    base = "%s/%s/%s/%s" % (cell["workload"], cell["variant"], ALLOCATOR, cell["collector"])
    return {
        "name": base, "run_name": base, "run_type": "iteration", "repetitions": reps,
        "repetition_index": 0, "threads": 1, "error_occurred": True, "error_message": error,
        "workload": cell["workload"], "variant": cell["variant"], "allocator": ALLOCATOR,
        "allocator_version": allocator_version(), "collector": cell["collector"],
        "params": params_text(cell["workload"], cell["params"]), "seed": cell["seed"],
    }


AGG_SKIP = {"family_index", "per_family_instance_index", "repetitions", "repetition_index",
            "threads", "seed"}
TIME_ONLY = {"ops", "seconds", "ns_per_op", "ops_per_sec", "rss_base", "rss_peak", "rss_end",
             "live_peak", "fragmentation", "leaked_bytes", "objects_allocated", "objects_freed"}


def aggregates(rows):
    """Google Benchmark's mean, median, stddev and cv rows over repetitions."""
    first = rows[0]
    out = []
    numeric = [k for k, v in first.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in AGG_SKIP
               and k != "iterations" and all(k in r for r in rows)]
    for agg in ("mean", "median", "stddev", "cv"):
        row = {"name": first["run_name"] + "_" + agg, "family_index": 0,
               "per_family_instance_index": 0, "run_name": first["run_name"],
               "run_type": "aggregate", "repetitions": len(rows), "threads": 1,
               "aggregate_name": agg, "aggregate_unit": "percentage" if agg == "cv" else "time",
               "iterations": len(rows)}
        for k in numeric:
            if agg in ("stddev", "cv") and k in TIME_ONLY:
                continue
            vals = [r[k] for r in rows]
            mean = statistics.fmean(vals)
            if agg == "mean":
                row[k] = mean
            elif agg == "median":
                row[k] = statistics.median(vals)
            else:
                sd = statistics.stdev(vals)
                row[k] = sd if agg == "stddev" else (sd / mean if mean else 0.0)
        for k in ("time_unit", "workload", "variant", "allocator", "allocator_version",
                  "collector", "params", "seed", "gc_threshold", "checksum"):
            if k in first:
                row[k] = first[k]
        out.append(row)
    return out


# ----------------------------------------------------------- the files --

def read_line(path):
    try:
        with open(path) as f:
            return f.readline().strip()
    except OSError:
        return None


def cpu_model(default=None):
    """The CPU's model name from /proc/cpuinfo, or `default`; every heaplab
    script reports it this way."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return default


def make_context(argv):
    ctx = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host_name": socket.gethostname(),
        "executable": sys.executable,
        "num_cpus": os.cpu_count(),
        "python_version": squash(sys.version),
        "python_implementation": platform.python_implementation(),
        "python_compiler": platform.python_compiler(),
        "allocator_version": allocator_version(),
        "gc_threshold_default": ",".join(str(t) for t in gc.get_threshold()),
        "tracemalloc_pass": "memory figures from a separate untimed pass under tracemalloc",
        "kernel": "%s %s %s" % (platform.system(), platform.release(), platform.machine()),
    }
    if hasattr(os, "getloadavg"):
        try:
            ctx["load_avg"] = list(os.getloadavg())
        except OSError:
            pass
    add_if(ctx, "debian_version", read_line("/etc/debian_version"))
    add_if(ctx, "cpu_model", cpu_model())
    thp = read_line("/sys/kernel/mm/transparent_hugepage/enabled")
    if thp:
        m = re.search(r"\[(\w+)\]", thp)
        ctx["transparent_hugepages"] = m.group(1) if m else thp
    ctx["command_line"] = list(argv)
    return ctx


def csv_text(doc):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for row in doc["benchmarks"]:
        if row.get("run_type", "iteration") != "iteration":
            continue
        line = []
        for col in CSV_COLUMNS:
            if col == "status":
                line.append("error" if row.get("error_occurred") else "ok")
                continue
            v = row.get(col)
            if v is None:
                line.append("")
            elif isinstance(v, bool):
                line.append("true" if v else "false")
            elif isinstance(v, (int, float)):
                if float(v).is_integer() and abs(v) < 9e15:
                    line.append("%d" % v)
                else:
                    line.append("%.6g" % v)
            else:
                line.append(str(v))
        w.writerow(line)
    return buf.getvalue()


def write_atomic(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    try:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def check_out_dir(d):
    try:
        os.makedirs(d, exist_ok=True)
        probe = os.path.join(d, ".cpython-compare-write-test")
        write_atomic(probe, "")
        os.unlink(probe)
    except OSError as e:
        return "--out: cannot write results to %s (%s)" % (d, e.strerror or e)
    return None


# ------------------------------------------------------------- the runs --

def fmt_num(v, width, scale=1.0, digits=1):
    if v is None:
        return "-".rjust(width)
    return ("%.*f" % (digits, v / scale)).rjust(width)


def fmt_bytes(v):
    if v is None:
        return "-"
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if v >= size:
            return "%.1f %s" % (v / size, unit)
    return "%d B" % v


TABLE = "%-8s %-12s %-16s %-16s %9s %8s %10s %10s %10s  %s"


def plan(args):
    cells, skipped = [], []
    for w in args.workloads:
        spec = WORKLOADS[w]
        chosen = getattr(args, "variants", None) or ([args.variant] if args.variant else None)
        variants = [v for v in spec["variants"] if chosen is None or v in chosen]
        params = {}
        for name, default, quick, *_ in spec["params"]:
            params[name] = args.params.get(name, quick if args.quick else default)
        for v in variants:
            for c in args.collectors:
                cell = {"workload": w, "variant": v, "collector": c, "params": params,
                        "seed": args.seed}
                if c not in spec["collectors"]:
                    skipped.append({"name": "%s/%s/%s/%s" % (w, v, ALLOCATOR, c),
                                    "reason": "reference counting alone never frees a cycle; "
                                              "this workload needs the cyclic collector"})
                else:
                    cells.append(cell)
    return cells, skipped


def run_cells(args, cells, quiet=False):
    rows, failed = [], 0
    for cell in cells:
        mem, err = spawn(dict(cell, mode="memory"), args.timeout)
        timed_rows = []
        if err is None:
            for rep in range(args.repetitions):
                timed, err = spawn(dict(cell, mode="timed"), args.timeout)
                if err is not None:
                    break
                if timed["result"]["checksum"] != mem["result"]["checksum"]:
                    err = "checksum of the timed run differs from the memory pass's"
                    break
                timed_rows.append(make_row(cell, rep, args.repetitions, mem, timed))
        if err is not None:
            failed += 1
            rows.append(failed_row(cell, args.repetitions, err))
            status = "FAILED: " + err
            shown = {}
        else:
            rows.extend(timed_rows)
            if args.repetitions > 1:
                rows.extend(aggregates(timed_rows))
            status = "ok"
            shown = timed_rows[0] if len(timed_rows) == 1 else \
                {k: statistics.median(r[k] for r in timed_rows)
                 for k in ("ns_per_op", "ops_per_sec", "rss_peak", "wl_collect_ns_per_object")
                 if all(k in r for r in timed_rows)}
            shown.setdefault("live_peak", timed_rows[0].get("live_peak"))
        if not quiet:
            print(TABLE % (cell["workload"], cell["variant"], ALLOCATOR, cell["collector"],
                           fmt_num(shown.get("ns_per_op"), 9),
                           fmt_num(shown.get("ops_per_sec"), 8, 1e6, 2),
                           fmt_bytes(shown.get("rss_peak")), fmt_bytes(shown.get("live_peak")),
                           fmt_num(shown.get("wl_collect_ns_per_object"), 10), status),
                  flush=True)
    return rows, failed


def write_new(path, text):
    """Write path whole only if nobody holds the name (link(2) of a complete
    temporary file is atomic and fails on an existing name): True, or False
    when the name is taken and nothing was written."""
    tmp = "%s.tmp.%d" % (path, os.getpid())
    write_atomic(tmp, text)
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)


def write_results(args, rows, skipped, argv):
    """The JSON and CSV under bench's naming: <time>_cpython_<workloads>, and
    <time>-2_..., -3 ... when another run took the name in the same second."""
    doc = {"context": make_context(argv), "benchmarks": rows, "skipped": skipped}
    stamp, label = time.strftime("%Y%m%d-%H%M%S"), "+".join(args.workloads)
    text = json.dumps(doc, indent=2) + "\n"
    for n in range(1, 10001):
        stem = "%s%s_cpython_%s" % (stamp, "-%d" % n if n > 1 else "", label)
        path = os.path.join(args.out, stem)
        if not os.path.exists(path + ".csv") and write_new(path + ".json", text):
            break
    else:
        raise OSError("no free name for %s_cpython_%s in %s" % (stamp, label, args.out))
    write_atomic(path + ".csv", csv_text(doc))
    return path


def print_header(args, n):
    print("cpython_compare: %d cell(s), seed %d, %d repetition(s)%s; %s" %
          (n, args.seed, args.repetitions, ", quick sizes" if args.quick else "",
           squash(sys.version).split(" ")[0]))
    print(TABLE % ("workload", "variant", "allocator", "collector", "ns/op", "Mops/s",
                   "rss_peak", "live_peak", "ns/coll.obj", "status"))


def measure_main(args, argv):
    cells, skipped = plan(args)
    print_header(args, len(cells))
    for s in skipped:
        parts = s["name"].split("/")
        print(TABLE % (parts[0], parts[1], parts[2], parts[3], "-", "-", "-", "-", "-",
                       "skipped: " + s["reason"]))
    if not cells:
        print("cpython_compare: no cell could run; nothing written")
        return 1
    rows, failed = run_cells(args, cells)
    try:
        path = write_results(args, rows, skipped, argv)
    except OSError as e:
        print("cpython_compare: cannot write results: %s" % e, file=sys.stderr)
        return 1
    print("results: %s.json and .csv" % path)
    if failed:
        print("cpython_compare: %d of %d cell(s) failed; their rows carry the error"
              % (failed, len(cells)), file=sys.stderr)
    return 1 if failed else 0


# ------------------------------------------------------------ --compare --

class CompareError(Exception):
    pass


def load_rows(path, what):
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as e:
        raise CompareError("cannot read %s %s: %s" % (what, path, e.strerror or e))
    except ValueError as e:
        raise CompareError("%s %s is not valid JSON: %s" % (what, path, e))
    rows = doc.get("benchmarks") if isinstance(doc, dict) else None
    if not isinstance(rows, list):
        raise CompareError("%s %s has no \"benchmarks\" array (not a results file)" % (what, path))
    return rows


def per_object(row):
    """The row's own ns per collected object (both sides report it whenever
    a collection ran), or None."""
    v = row.get("wl_collect_ns_per_object")
    return float(v) if isinstance(v, (int, float)) else None


def usable(row):
    return row.get("run_type", "iteration") == "iteration" and not row.get("error_occurred") \
        and row.get("workload") == "cycles"


def group(rows, key):
    """Median over repetitions of ns per collected object, per key(row)."""
    groups = {}
    for r in rows:
        v = per_object(r)
        if v is not None:
            g = groups.setdefault(key(r), {"values": [], "objects": r.get("wl_collect_objects"),
                                           "params": r.get("params", "")})
            g["values"].append(v)
    return {k: dict(g, ns=statistics.median(g["values"])) for k, g in groups.items()}


def parse_params(text):
    out = {}
    for part in (text or "").split(","):
        name, eq, value = part.partition("=")
        if eq and value.strip().isdigit():
            out[name.strip()] = int(value)
    return out


def cpython_variant(heap_variant, slots):
    return heap_variant + ("-slots" if slots else "")


# The benchmark target of issue 11: heaplab's cycle collector on pairs of
# 1,000,000 objects at most this times CPython's __slots__-class time per
# collected object, measured in one run.
TARGET_PARAMS = {"ops": 500000, "batch": 500000, "collect": 1}
TARGET_COMMAND = ("./bench --workload=cycles --collector=cycle --allocator=pool --param variant=pairs "
                  "--param batch=500000 --param ops=500000 --param collect=1 --gc-threshold=0,0,0 "
                  "--repetitions=5 && scripts/cpython_compare.py --compare results/<that run>.json "
                  "--repetitions=5")


def context_of(path):
    try:
        with open(path) as f:
            doc = json.load(f)
        return doc.get("context", {}) if isinstance(doc, dict) else {}
    except (OSError, ValueError):
        return {}


def generations(row, key="gc_collections_gen%d"):
    vals = [row.get(key % g) for g in range(3)]
    return tuple(int(v) for v in vals) if all(isinstance(v, (int, float)) for v in vals) else None


def compare_main(args, argv):
    all_heap = [r for r in load_rows(args.compare, "heaplab results")
                if usable(r) and r.get("collector") == "cycle"]
    timed = [r for r in all_heap if parse_params(r.get("params")).get("collect") == 1]
    policy = [r for r in all_heap if parse_params(r.get("params")).get("collect", 0) == 0
              and generations(r) is not None]
    heap = group(timed, lambda r: (r.get("variant"), r.get("allocator", "?"), r.get("params", "")))
    if not heap and not policy:
        raise CompareError("%s has no usable cycles rows under collector cycle; produce them "
                           "with: %s" % (args.compare, TARGET_COMMAND.split(" && ")[0]))
    variants = sorted({r.get("variant") for r in timed + policy})
    if args.cpython_json:
        py_rows = load_rows(args.cpython_json, "CPython results")
        source = args.cpython_json
    else:
        # Run the CPython side with the heaplab rows' own sizes, once per
        # parameter set (the explicit collections, the threshold policy).
        py_rows, skipped_all = [], []
        args.workloads, args.collectors, args.variant = ["cycles"], ["cpython-gc"], None
        for params in sorted({r.get("params", "") for r in timed + policy}):
            args.variants = [cpython_variant(v, s) for v in variants for s in (False, True)
                             if any(r.get("variant") == v and r.get("params") == params
                                    for r in timed + policy)]
            hp = parse_params(params)
            args.params = {k: hp[k] for k in ("ops", "batch", "collect") if k in hp}
            cells, skipped = plan(args)
            print_header(args, len(cells))
            rows, failed = run_cells(args, cells)
            if failed:
                raise CompareError("the CPython side failed: %s" % next(
                    r["error_message"] for r in rows if r.get("error_occurred")))
            py_rows += rows
            skipped_all += skipped
        try:
            source = write_results(args, py_rows, skipped_all, argv) + ".json"
        except OSError as e:
            raise CompareError("cannot write results: %s" % e)
        print("results: %s" % source)
        print()
    py_all = [r for r in py_rows if usable(r) and r.get("allocator") == ALLOCATOR]
    py = group([r for r in py_all if parse_params(r.get("params")).get("collect", 1) == 1],
               lambda r: (r.get("variant"), r.get("params", "")))
    versions = sorted({r.get("allocator_version", "?") for r in py_all})
    heap_cpu = context_of(args.compare).get("cpu_model", "unknown CPU")
    py_cpu = context_of(source).get("cpu_model", "unknown CPU")
    print("heaplab: collector cycle, from %s (CPU: %s)" % (args.compare, heap_cpu))
    print("CPython: from %s (%s; CPU: %s)" % (source, "; ".join(versions), py_cpu))
    if heap_cpu != py_cpu:
        print("note: the two sides ran on different CPUs; the ratios are not like for like")

    target = args.target
    target_line = None
    if heap:
        print()
        print("Explicit full collections (collect=1): ns per collected object")
        fmt = "%-16s %-14s %-32s %10s %8s | %-10s %8s | %8s"
        print(fmt % ("variant", "heaplab on", "params", "objects", "ns/obj", "CPython", "ns/obj",
                     "ratio"))
        for (variant, alloc, params), h in sorted(heap.items()):
            for slots in (False, True):
                p = py.get((cpython_variant(variant, slots), params))
                if p is None:
                    continue
                ratio = h["ns"] / p["ns"] if p["ns"] > 0 else float("inf")
                print(fmt % (variant, alloc, params, h["objects"] if h["objects"] is not None
                             else "-", "%.1f" % h["ns"], "__slots__" if slots else "plain",
                             "%.1f" % p["ns"], "%.3fx" % ratio))
                if variant == "pairs" and slots and parse_params(params) == TARGET_PARAMS and \
                        (target_line is None or alloc == "pool"):
                    target_line = (ratio, alloc)
        print("(ratio = heaplab / CPython; medians over repetitions; same graphs: heaplab's "
              "variant, CPython's plain and __slots__ classes)")
    met = None
    if policy:
        print()
        print("Threshold policy (collect=0, thresholds 700/10/10 on both sides): collections "
              "per generation (gen0/gen1/gen2), and whether the objects each generation "
              "collected are equal too")
        fmt = "%-8s %-6s %-30s %12s | %-9s %12s | %-5s %s"
        print(fmt % ("variant", "on", "params", "heaplab", "CPython", "CPython", "equal",
                     "collected"))
        seen = set()
        for r in sorted(policy, key=lambda r: (r.get("variant"), r.get("allocator", ""))):
            key = (r.get("variant"), r.get("allocator"), r.get("params"))
            if key in seen:
                continue
            seen.add(key)
            for slots in (False, True):
                pv = [x for x in py_all if x.get("variant") ==
                      cpython_variant(r["variant"], slots) and
                      sorted(x.get("params", "").split(",")) ==
                      sorted(r.get("params", "").split(","))]
                if not pv or generations(pv[0]) is None:
                    continue
                h, c = generations(r), generations(pv[0])
                same = generations(r, "gc_collected_gen%d") == \
                    generations(pv[0], "gc_collected_gen%d")
                print(fmt % (r["variant"], r.get("allocator", "?"), r.get("params", ""),
                             "/".join(map(str, h)), "__slots__" if slots else "plain",
                             "/".join(map(str, c)), "yes" if h == c else "NO",
                             "same" if same else "differ"))
    print()
    if target_line is None:
        print("Benchmark target: not judged: it needs heaplab rows of cycles/pairs with %s "
              "(pairs of 1,000,000 objects) beside CPython's pairs-slots; command: %s"
              % (",".join("%s=%d" % kv for kv in sorted(TARGET_PARAMS.items())), TARGET_COMMAND))
    else:
        ratio, alloc = target_line
        met = ratio <= target
        print("Benchmark target: heaplab cycle (%s) on pairs of 1,000,000 objects takes %.3fx "
              "CPython's __slots__-class time per collected object; target <= %gx: %s "
              "(CPU: %s); command: %s" % (alloc, ratio, target, "met" if met else "NOT met",
                                           heap_cpu, TARGET_COMMAND))
    if args.require_target and not met:
        return 1
    return 0


# -------------------------------------------------------- command line --

class Parser(argparse.ArgumentParser):
    def error(self, message):
        # One line, like heaplab's own bad-input messages.
        sys.stderr.write("cpython_compare: %s\n" % message)
        sys.exit(2)


def int_in(name, lo, hi):
    def parse(text):
        try:
            v = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError("'%s' is not a whole number" % text)
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError("%d is out of range %d..%d" % (v, lo, hi))
        return v
    return parse


def positive_float(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("'%s' is not a number" % text)
    if not v > 0:
        raise argparse.ArgumentTypeError("must be above 0")
    return v


def name_list(option, valid):
    def parse(text):
        if text == "":
            raise argparse.ArgumentTypeError("missing value")
        names = text.split(",")
        if any(n == "" for n in names):
            raise argparse.ArgumentTypeError("empty name in '%s'" % text)
        for n in names:
            if n not in valid:
                raise argparse.ArgumentTypeError("unknown %s '%s'; valid: %s"
                                                 % (option.lstrip("-"), n, ", ".join(valid)))
        return list(dict.fromkeys(names))
    return parse


def build_parser():
    p = Parser(
        prog="cpython_compare.py",
        description="heaplab's cycles (pairs) and genlist workloads reproduced in CPython, with "
                    "results in heaplab's format (allocator cpython-pymalloc, collector "
                    "cpython-gc or cpython-refcount); --compare puts heaplab's cycle collector "
                    "beside CPython's gc.collect().",
        epilog="Parameters: cycles: ops (structures; default 200000, --quick 10000), batch "
               "(default 100), collect (0: the thresholds decide; 1: gc disabled and one "
               "gc.collect() per batch), as heaplab's cycles.  genlist: items (default 1000000, "
               "--quick 100000).  Variants: cycles: pairs, rings, dlist, tree, each with -fin "
               "(__del__) and each with -slots; genlist: list, generator.  See docs/cpython.md.")
    p.add_argument("--workload", type=name_list("--workload", list(WORKLOADS)),
                   default=list(WORKLOADS), metavar="LIST",
                   help="workloads to run: cycles, genlist (default both)")
    p.add_argument("--collector", type=name_list("--collector", list(COLLECTORS)),
                   default=["cpython-gc"], metavar="LIST",
                   help="cpython-gc (the cyclic collector on, its default thresholds) and/or "
                        "cpython-refcount (gc.disable(): genlist only) (default cpython-gc)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="a workload parameter; variant=NAME picks one variant")
    p.add_argument("--quick", action="store_true", help="small sizes, for tests")
    p.add_argument("--seed", type=int_in("--seed", 0, 2**63 - 1), default=1, metavar="N",
                   help="seed of genlist's values (default 1)")
    p.add_argument("--repetitions", type=int_in("--repetitions", 1, 1000), default=1, metavar="N",
                   help="timed runs per cell, each in a fresh process; above 1 adds "
                        "mean/median/stddev/cv rows (default 1)")
    p.add_argument("--timeout", type=int_in("--timeout", 1, 86400), default=900, metavar="SECONDS",
                   help="seconds before one pass of a cell is killed (default 900)")
    p.add_argument("--out", default="results", metavar="DIR",
                   help="where results go (default results/)")
    p.add_argument("--compare", metavar="HEAPLAB_JSON",
                   help="print heaplab's cycle collector beside CPython's gc.collect(), "
                        "ns per collected object, from this heaplab results file")
    p.add_argument("--cpython-json", metavar="FILE",
                   help="with --compare: take the CPython side from this script's results "
                        "file instead of running it")
    p.add_argument("--target", type=positive_float, default=0.5, metavar="RATIO",
                   help="with --compare: the ratio heaplab/CPython (pairs against pairs-slots, "
                        "1,000,000 objects, collect=1) to meet (default 0.5)")
    p.add_argument("--require-target", action="store_true",
                   help="with --compare: exit 1 when the target is not met or not judged")
    p.add_argument("--run-cell", help=argparse.SUPPRESS)
    return p


def parse_args(argv):
    p = build_parser()
    args = p.parse_args(argv)
    if args.cpython_json and not args.compare:
        p.error("--cpython-json needs --compare")
    if (args.require_target or args.target != 0.5) and not args.compare:
        p.error("--target and --require-target go with --compare")
    args.workloads = args.workload
    args.collectors = args.collector
    known = {name for w in WORKLOADS.values() for name, *_ in w["params"]}
    args.params, args.variant = {}, None
    for item in args.param:
        name, eq, value = item.partition("=")
        if not eq or not name:
            p.error("--param: expected NAME=VALUE, got '%s'" % item)
        if name == "variant":
            valid = [v for w in args.workloads for v in WORKLOADS[w]["variants"]]
            if value not in valid:
                p.error("--param variant: unknown variant '%s' for %s; valid: %s"
                        % (value, "+".join(args.workloads), ", ".join(valid)))
            args.variant = value
            continue
        if name not in known:
            p.error("--param: unknown parameter '%s'; valid: variant, %s"
                    % (name, ", ".join(sorted(known))))
        ranges = [(lo, hi) for w in args.workloads for n, _, _, lo, hi in WORKLOADS[w]["params"]
                  if n == name]
        if not ranges:
            p.error("--param: parameter '%s' belongs to no selected workload" % name)
        try:
            args.params[name] = int_in(name, *ranges[0])(value)
        except argparse.ArgumentTypeError as e:
            p.error("--param %s: %s" % (name, e))
    if args.variant is not None:
        # Only the workloads that have that variant.
        args.workloads = [w for w in args.workloads if args.variant in WORKLOADS[w]["variants"]]
    if not args.compare:
        err = check_out_dir(args.out)
        if err:
            p.error(err)
    elif not args.cpython_json:
        err = check_out_dir(args.out)
        if err:
            p.error(err)
    if args.compare and not os.path.isfile(args.compare):
        p.error("--compare: no such file: %s" % args.compare)
    if args.cpython_json and not os.path.isfile(args.cpython_json):
        p.error("--cpython-json: no such file: %s" % args.cpython_json)
    return args


def main(argv):
    if len(argv) == 2 and argv[0] == "--run-cell":
        return child_main(argv[1])
    args = parse_args(argv)
    full = [os.path.basename(sys.argv[0])] + list(argv)
    if args.compare:
        try:
            return compare_main(args, full)
        except CompareError as e:
            print("cpython_compare: %s" % e, file=sys.stderr)
            return 1
    return measure_main(args, full)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
