#!/usr/bin/env python3
"""readme_figures.py - re-measure every figure the README states.

Each README section that quotes a figure has one entry in SECTIONS below: the
exact ./bench command behind it and a function that turns that command's
results into the markdown the README shows.  Running a section runs its
command into results/readme/<section>/ and prints its table headed by the
command and the CPU model the figures came from, so a reader on another
machine can re-measure a claim with one line and see how far it moved:

    scripts/readme_figures.py                 # every section (about 3 minutes here)
    scripts/readme_figures.py churn fragadv   # some sections
    scripts/readme_figures.py --from-results churn   # re-print from the last run

Figures are taken from result rows only: medians over the repetition rows,
and the ratios the tables show are ratios of those medians, worked out
here.  Standard library only.
"""

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
MIB = 1024.0 * 1024.0


def run_bench(section, args):
    """Run ./bench ARGS into results/readme/SECTION/; return the newest JSON."""
    out = os.path.join(ROOT, "results", "readme", section)
    os.makedirs(out, exist_ok=True)
    cmd = [BENCH] + args + ["--out=" + out]
    print("running: %s" % " ".join(["./bench"] + args), file=sys.stderr)
    if subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL).returncode != 0:
        sys.exit("readme_figures: %s failed; its figures would be an older run's" % " ".join(
            ["./bench"] + args))
    return newest(section)


def newest(section):
    files = sorted(glob.glob(os.path.join(ROOT, "results", "readme", section, "*.json")),
                   key=os.path.getmtime)
    if not files:
        sys.exit("readme_figures: no results for %s; run it without --from-results" % section)
    return files[-1]


def load(path):
    with open(path) as f:
        return json.load(f)


def iterations(doc):
    """The repetition rows that ran (no aggregates, no failed rows)."""
    return [r for r in doc["benchmarks"]
            if r.get("run_type") == "iteration" and not r.get("error_occurred")]


def group(rows, *keys):
    out = {}
    for r in rows:
        out.setdefault(tuple(r.get(k) for k in keys), []).append(r)
    return out


def median(rows, key):
    vals = [r[key] for r in rows if isinstance(r.get(key), (int, float))]
    return statistics.median(vals) if vals else None


def fmt(v, spec="%.2f", absent="-"):
    return absent if v is None else spec % v


def mib(v):
    return fmt(None if v is None else v / MIB, "%.1f MiB")


def header(doc, command):
    cpu = doc["context"].get("cpu_model", "unknown CPU")
    return "```sh\n%s\n```\n\nMeasured on: %s, %s.\n" % (command, cpu, doc["context"].get("date", ""))


# ------------------------------------------------------------- sections --

def churn_table(doc):
    rows = iterations(doc)
    lines = ["| variant | allocator | proven version | ns/op (median) | vs mimalloc | rss_peak |",
             "| --- | --- | --- | ---: | ---: | ---: |"]
    by = group(rows, "variant", "allocator")
    for variant in ("mixed", "fixed64"):
        ref = median(by.get((variant, "mimalloc"), []), "ns_per_op")
        for a in ("glibc", "jemalloc", "mimalloc", "tcmalloc", "pool", "arena"):
            g = by.get((variant, a), [])
            if not g:
                continue
            ns = median(g, "ns_per_op")
            ver = g[0].get("allocator_version", "").split(" (")[0]
            lines.append("| %s | %s | %s | %s | %s | %s |" % (
                variant, a, ver, fmt(ns), fmt(ns / ref if ns and ref else None, "%.2fx"),
                mib(median(g, "rss_peak"))))
    return "\n".join(lines)


def lessons_table(doc):
    rows = iterations(doc)
    by = group(rows, "workload", "variant", "collector")
    cols = ("manual", "refcount", "cycle", "tracing", "marksweep")
    lines = ["| cycles variant | " + " | ".join(cols) + " |",
             "| --- |" + " ---: |" * len(cols)]
    for v in ("pairs", "rings", "dlist", "tree"):
        cells = []
        for c in cols:
            leaked = median(by.get(("cycles", v, c), []), "leaked_bytes")
            cells.append("-" if leaked is None else ("0" if leaked == 0 else mib(leaked)))
        lines.append("| %s | %s |" % (v, " | ".join(cells)))
    lines.append("")
    def one(w, v, key, spec, collector="refcount"):
        return fmt(median(by.get((w, v, collector), []), key), spec)

    def pair(w, v1, v2, key, spec, collector="refcount"):
        return "%s / %s" % (one(w, v1, key, spec, collector), one(w, v2, key, spec, collector))

    def mib_of(w, v):
        return mib(median(by.get((w, v, "refcount"), []), "live_peak"))

    facts = [
        ("cache unbounded live_peak", mib_of("cache", "unbounded")),
        ("cache lru live_peak", mib_of("cache", "lru")),
        ("cache weak live_peak", mib_of("cache", "weak")),
        ("cache weak entries removed by callbacks", one("cache", "weak", "wl_vanished", "%.0f")),
        ("genlist list live_peak", mib_of("genlist", "list")),
        ("genlist generator live_peak (bytes)", one("genlist", "generator", "live_peak", "%.0f")),
        ("ring allocs per message (ring / alloc)",
         pair("ring", "ring", "alloc", "wl_allocs_per_message", "%.0f")),
        ("ring ns per message (ring / alloc)", pair("ring", "ring", "alloc", "ns_per_op", "%.1f")),
        ("slots bytes per object (slots / dict)",
         pair("slots", "slots", "dict", "memory_pass_wl_bytes_per_object", "%.0f")),
        ("slots bytes per object under cycle (slots / dict)",
         pair("slots", "slots", "dict", "memory_pass_wl_bytes_per_object", "%.0f", "cycle")),
        ("slots ns per attribute access (slots / dict)",
         pair("slots", "slots", "dict", "ns_per_op", "%.1f")),
    ]
    lines += ["| figure (refcount on pool) | value |", "| --- | ---: |"]
    lines += ["| %s | %s |" % f for f in facts]
    return "\n".join(lines)


def fragadv_table(doc):
    rows = iterations(doc)
    by = group(rows, "allocator")
    ref = median(by.get(("mimalloc",), []), "rss_peak")
    lines = ["| allocator | rss_peak | vs mimalloc | live_peak | fragmentation | "
             "internal / external waste (allocator's view) |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for a in ("glibc", "jemalloc", "mimalloc", "tcmalloc", "pool", "arena"):
        g = by.get((a,), [])
        if not g:
            continue
        peak = median(g, "rss_peak")
        lines.append("| %s | %s | %s | %s | %s | %s / %s |" % (
            a, mib(peak), fmt(peak / ref if peak and ref else None, "%.3fx"),
            mib(median(g, "live_peak")), fmt(median(g, "fragmentation")),
            mib(median(g, "alloc_internal_waste_bytes")),
            mib(median(g, "alloc_external_waste_bytes"))))
    return "\n".join(lines)


def threads_table(doc):
    rows = iterations(doc)
    by = group(rows, "workload", "allocator", "threads")
    counts = sorted({r.get("threads", 1) for r in rows})
    lines = ["| workload | allocator | " + " | ".join("%d thread(s): real / cpu ns/op" % t for t in counts) + " |",
             "| --- | --- |" + " ---: |" * len(counts)]
    for w in ("larson", "xmalloc"):
        for a in ("glibc", "jemalloc", "mimalloc", "tcmalloc"):
            cells = []
            for t in counts:
                g = by.get((w, a, t), [])
                cells.append("%s / %s" % (fmt(median(g, "real_time"), "%.1f"),
                                          fmt(median(g, "cpu_time"), "%.1f")))
            lines.append("| %s | %s | %s |" % (w, a, " | ".join(cells)))
    return "\n".join(lines)


def cpython_table(doc):
    """heaplab's side is the run; CPython's side runs here, in this python3,
    with as many repetitions as heaplab's, into results/readme/SECTION.cpython/
    (with --from-results, the newest CPython results there are re-read)."""
    path = doc["_path"]
    reps = max([r.get("repetitions", 1) for r in doc["benchmarks"]] + [1])
    out_dir = os.path.join(ROOT, "results", "readme", doc["_section"] + ".cpython")
    cmd = [sys.executable, os.path.join(ROOT, "scripts", "cpython_compare.py"),
           "--compare", path, "--repetitions=%d" % reps, "--out=" + out_dir]
    earlier = sorted(glob.glob(os.path.join(out_dir, "*.json")), key=os.path.getmtime)
    if doc["_from_results"] and earlier:
        cmd.append("--cpython-json=" + earlier[-1])
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return "```\n%s```\n\n(CPython side: `python3 scripts/cpython_compare.py --compare %s --repetitions=%d`)" % (
        out.stdout, os.path.relpath(path, ROOT), reps)


SECTIONS = {
    "churn": (["--allocator=all", "--workload=churn", "--repetitions=5"], churn_table),
    "lessons": (["--workload=cycles,cache,genlist,ring,slots,trees", "--collector=all",
                 "--allocator=pool"], lessons_table),
    "fragadv": (["--workload=fragadv", "--allocator=all"], fragadv_table),
    "cpython": (["--workload=cycles", "--collector=cycle", "--param", "variant=pairs",
                 "--param", "batch=500000", "--param", "ops=500000", "--param", "collect=1",
                 "--gc-threshold=0,0,0",
                 "--allocator=pool,glibc", "--repetitions=5"], cpython_table),
    "cpython-graphs": (["--workload=cycles", "--collector=cycle", "--allocator=pool",
                        "--param", "ops=66667", "--param", "batch=66667", "--param", "collect=1",
                        "--gc-threshold=0,0,0", "--repetitions=3"], cpython_table),
    "cpython-policy": (["--workload=cycles", "--collector=cycle", "--allocator=pool"],
                       cpython_table),
    "threads": (["--workload=larson,xmalloc", "--threads=1,2",
                 "--allocator=glibc,jemalloc,mimalloc,tcmalloc", "--repetitions=3"], threads_table),
}


def main():
    p = argparse.ArgumentParser(description="Re-measure the README's figures.")
    p.add_argument("sections", nargs="*", help="any of: " + ", ".join(SECTIONS))
    p.add_argument("--from-results", action="store_true",
                   help="print from the newest results under results/readme/ instead of running")
    a = p.parse_args()
    names = a.sections or list(SECTIONS)
    bad = [n for n in names if n not in SECTIONS]
    if bad:
        print("readme_figures: unknown section %s; valid: %s" % (", ".join(bad), ", ".join(SECTIONS)),
              file=sys.stderr)
        return 2
    for name in names:
        args, table = SECTIONS[name]
        path = newest(name) if a.from_results else run_bench(name, args)
        doc = load(path)
        doc["_path"] = path
        doc["_section"] = name
        doc["_from_results"] = a.from_results
        print("### %s\n\n%s\n%s\n\n(from %s)\n" % (name, header(doc, " ".join(["./bench"] + args)),
                                                 table(doc), os.path.relpath(path, ROOT)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
