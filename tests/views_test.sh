#!/usr/bin/env bash
# views_test.sh BENCH - the latency and MMU figures, their plots, the
# report's summary, and what the plots and the table show a new user.
#
# No timing assertions: each check is an identity or an order that holds
# on any machine.
#  1. --latency: every row of churn, larson (2 threads), xmalloc and
#     fragadv carries, for alloc and for free, min <= p50 <= p90 <= p99 <=
#     p99.9 <= p99.99 <= max with a sample count, the sampling period, the
#     timer's cost and the calibration; the 2-thread cell merged 2 threads;
#     a run without --latency has no latency figure; --latency with
#     --instructions or --duration is refused (exit 2, one line).
#  2. MMU: on a run of the pausing collectors, every mmu_* lies in [0, 1]
#     and never falls as the window grows (mmu_run, the whole run, last).
#  3. Plots: latency_<workload>_<variant> and mmu_<workload> are drawn for
#     those runs, soak_<workload>_<variant> for a --duration run, all shown
#     by the report.
#  4. The report's summary names the fastest and the smallest allocator of
#     a synthetic run whose answer is known, and each collector's worst p99.
#  5. What a new user saw (issue 15, item 7), each on data made to show it:
#     a thread sweep keeps its 2-thread bars; stress is not plotted; a
#     program run draws its wall time, names no collector "-" and lists no
#     live bytes it does not have, with nothing on stderr; a GiB peak beside
#     MiB ones turns the memory axis logarithmic; skipped cells at a thread
#     count are all counted; leaked bytes carry a unit; no debug line; a
#     --quick run's plots are marked SMOKE RUN and a full run's are not;
#     the console table's columns line up with long names.
# Needs python3 and gnuplot; exits 77 (skipped) without gnuplot.
bench=$1
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
plots=(python3 "$top/scripts/plots.py")
command -v gnuplot >/dev/null || { echo "SKIP: gnuplot is not installed (Debian: gnuplot-nox)"; exit 77; }

run() { # DIR ARGS...: one quick run into $tmp/DIR, its console in $tmp/DIR.log
  local dir=$1; shift
  "$bench" --quick --out="$tmp/$dir" "$@" >"$tmp/$dir.log" 2>&1 \
    || { cat "$tmp/$dir.log"; die "bench $* exited non-zero"; }
}

# ------------------------------------------------------------- 1. latency --
run lat --latency --allocator=glibc,pool --workload=churn,xmalloc,fragadv
run lat2 --latency --allocator=glibc --workload=larson --threads=2
run plain --allocator=pool --workload=churn --param variant=fixed64
python3 - "$tmp" <<'PY' || fail=1
import glob, json, sys
tmp = sys.argv[1]
bad = []
def rows(d):
    return [r for f in glob.glob("%s/%s/*.json" % (tmp, d)) for r in json.load(open(f))["benchmarks"]]
points = ["min", "p50", "p90", "p99", "p999", "p9999", "max"]
seen = set()
for r in rows("lat") + rows("lat2"):
    if r.get("run_type") == "aggregate":
        continue
    seen.add(r["workload"])
    name = "%s/%s/%s" % (r["workload"], r["variant"], r["allocator"])
    for kind in ("alloc", "free"):
        n = r.get("latency_%s_samples" % kind)
        if not n or n <= 0:
            bad.append("%s: no %s samples" % (name, kind))
            continue
        v = [r.get("latency_%s_%s_ns" % (kind, p)) for p in points]
        if any(x is None for x in v):
            bad.append("%s: %s lacks %s" % (name, kind, [p for p, x in zip(points, v) if x is None]))
        elif any(a > b for a, b in zip(v, v[1:])) or v[0] < 0:
            bad.append("%s: %s percentiles out of order: %s" % (name, kind, dict(zip(points, v))))
    for key in ("latency_sample_every", "latency_timer_ns", "latency_ticks_per_ns",
                "latency_calibration_ms", "latency_threads", "latency_clock"):
        if key not in r:
            bad.append("%s: no %s" % (name, key))
    if r.get("latency_sample_every", 0) < 1 or r.get("latency_ticks_per_ns", 0) <= 0:
        bad.append("%s: sampling period %s, ticks per ns %s" % (
            name, r.get("latency_sample_every"), r.get("latency_ticks_per_ns")))
    if r["workload"] == "larson" and r.get("latency_threads") != 2:
        bad.append("%s at 2 threads merged %s threads' samples" % (name, r.get("latency_threads")))
if seen != {"churn", "larson", "xmalloc", "fragadv"}:
    bad.append("latency rows for %s" % sorted(seen))
for r in rows("plain"):
    if any(k.startswith("latency_") for k in r):
        bad.append("a run without --latency has %s" % [k for k in r if k.startswith("latency_")])
for b in bad:
    print("FAIL: " + b)
if not bad:
    print("ok   latency: every row's percentiles in order, alloc and free, 1 and 2 threads")
sys.exit(1 if bad else 0)
PY
"$bench" --latency --instructions >"$tmp/stdout" 2>"$tmp/stderr"
check_refusal "--latency --instructions" $? "--latency does not go with --instructions"
"$bench" --latency --duration=1 >"$tmp/stdout" 2>"$tmp/stderr"
check_refusal "--latency --duration" $? "--latency does not go with --duration"

# ----------------------------------------------------------------- 2. MMU --
run mmu --allocator=pool --workload=cycles,trees,cache --collector=cycle,marksweep,tracing
python3 - "$tmp" <<'PY' || fail=1
import glob, json, sys
tmp = sys.argv[1]
windows = ["1ms", "2ms", "5ms", "10ms", "20ms", "50ms", "100ms", "200ms", "500ms", "1s", "2s",
           "5s", "10s", "run"]
bad, curves = [], 0
for r in json.load(open(glob.glob("%s/mmu/*.json" % tmp)[0]))["benchmarks"]:
    v = [(w, r["mmu_" + w]) for w in windows if "mmu_" + w in r]
    if not v:
        continue
    curves += 1
    name = "%s/%s/%s" % (r["workload"], r["variant"], r["collector"])
    if any(not 0 <= x <= 1 for _, x in v):
        bad.append("%s: MMU outside [0, 1]: %s" % (name, v))
    if any(a[1] > b[1] + 1e-12 for a, b in zip(v, v[1:])):
        bad.append("%s: MMU falls as the window grows: %s" % (name, v))
    if "mmu_run" not in r or "mmu_run_ms" not in r:
        bad.append("%s: no mmu_run / mmu_run_ms" % name)
if curves < 10:
    bad.append("only %d rows carry MMU figures" % curves)
for b in bad:
    print("FAIL: " + b)
if not bad:
    print("ok   MMU: %d curves within [0, 1], none falling" % curves)
sys.exit(1 if bad else 0)
PY

# --------------------------------------------------------------- 3. plots --
for d in lat mmu; do
  "${plots[@]}" "$tmp/$d" --out "$tmp/p-$d" >"$tmp/p-$d.out" 2>"$tmp/p-$d.err" \
    || die "plots.py on the $d run exited $?: $(cat "$tmp/p-$d.err")"
  [[ -s $tmp/p-$d.err ]] && die "plots.py wrote to stderr on the $d run: $(cat "$tmp/p-$d.err")"
done
for stem in latency_churn_mixed latency_xmalloc_default latency_fragadv_default; do
  [[ -s $tmp/p-lat/$stem.png && -s $tmp/p-lat/$stem.svg ]] || die "no $stem plot"
  grep -q "<img src=\"$stem.png\"" "$tmp/p-lat/report.html" 2>/dev/null || die "the report lacks $stem"
done
grep -q "Latency tail" "$tmp/p-lat/latency_churn_mixed.svg" 2>/dev/null || die "the latency plot has no title"
for stem in mmu_cycles mmu_trees mmu_cache; do
  [[ -s $tmp/p-mmu/$stem.png && -s $tmp/p-mmu/$stem.svg ]] || die "no $stem plot"
  grep -q "<img src=\"$stem.png\"" "$tmp/p-mmu/report.html" 2>/dev/null || die "the report lacks $stem"
done
# A soak (--duration) draws RSS against live bytes over time, arena's
# hoard on a log axis beside glibc.  (arena's soak fails its growth check:
# the run exits 1, and its rows are still drawn.)
"$bench" --quick --allocator=glibc,arena --workload=fragadv --duration=0.5 --out="$tmp/soak" \
  >"$tmp/soak.log" 2>&1
"${plots[@]}" "$tmp/soak" --out "$tmp/p-soak" >"$tmp/p-soak.out" 2>"$tmp/p-soak.err" \
  || die "plots.py on a soak exited $?: $(cat "$tmp/p-soak.err")"
if [[ ! -s $tmp/p-soak/soak_fragadv_default.svg ]]; then
  die "a soak has no soak_fragadv_default plot"
else
  grep -q "RSS - live (.*log scale)" "$tmp/p-soak/soak_fragadv_default.svg" \
    || die "the soak plot does not put arena's hoard beside glibc on a log axis"
  grep -q "<img src=\"soak_fragadv_default.png\"" "$tmp/p-soak/report.html" || die "the report lacks the soak plot"
fi
[[ $fail -eq 0 ]] && echo "ok   plots: latency, MMU and soak drawn and in the report"

# ------------------------------------------- 4 and 5: synthetic results --
# From the real run's document (context, row shape), rows with figures
# chosen so that every answer is known.
mkdir -p "$tmp/syn"
python3 - "$tmp" <<'PY' || fail=1
import copy, csv, glob, json, os, sys
tmp = sys.argv[1]
doc = json.load(open(glob.glob("%s/lat/*.json" % tmp)[0]))
base = [r for r in doc["benchmarks"] if r.get("run_type") == "iteration"][0]
def row(workload, variant, allocator, ns, rss, threads=1, collector="manual", **extra):
    r = {k: v for k, v in base.items() if not k.startswith("latency_")}
    r.update(workload=workload, variant=variant, allocator=allocator, collector=collector,
             threads=threads, ns_per_op=ns, real_time=ns, rss_peak=rss, leaked_bytes=0,
             params="threads=%d" % threads, name="%s/%s/%s/%s/threads:%d" % (
                 workload, variant, allocator, collector, threads))
    r.update(extra)
    return r
MiB = 1 << 20
rows = [
    # churn: pool fastest (geometric mean 4.47 against glibc 5.48 and
    # jemalloc 4.95), jemalloc smallest; glibc's 5 MiB leak.
    row("churn", "mixed", "glibc", 10.0, 8 * MiB, leaked_bytes=5 * MiB),
    row("churn", "mixed", "pool", 5.0, 12 * MiB),
    row("churn", "mixed", "jemalloc", 7.0, 6 * MiB),
    row("churn", "fixed64", "glibc", 3.0, 8 * MiB),
    row("churn", "fixed64", "pool", 4.0, 12 * MiB),
    row("churn", "fixed64", "jemalloc", 3.5, 6 * MiB),
    # larson at 1 and 2 threads: glibc fastest at 1, jemalloc at 2.
    row("larson", "default", "glibc", 10.0, 5 * MiB, threads=1),
    row("larson", "default", "jemalloc", 12.0, 6 * MiB, threads=1),
    row("larson", "default", "glibc", 30.0, 5 * MiB, threads=2),
    row("larson", "default", "jemalloc", 20.0, 7 * MiB, threads=2),
    # stress is not a benchmark: not plotted, not in the summary.
    row("stress", "alloc", "glibc", 1.0, 1 * MiB),
    # cycle's worst p99: 300 us (on trees), marksweep's 2 ms.
    row("cycles", "rings", "glibc", 50.0, 5 * MiB, collector="cycle", gc_pauses=10,
        gc_pause_p50_ns=5e4, gc_pause_p99_ns=1e5, gc_pause_max_ns=2e5),
    row("trees", "gcbench", "glibc", 50.0, 5 * MiB, collector="cycle", gc_pauses=10,
        gc_pause_p50_ns=5e4, gc_pause_p99_ns=3e5, gc_pause_max_ns=4e5),
    row("trees", "gcbench", "glibc", 60.0, 5 * MiB, collector="marksweep", gc_pauses=3,
        gc_pause_p50_ns=1e6, gc_pause_p99_ns=2e6, gc_pause_max_ns=2e6),
]
skipped = [{"name": "larson/default/pool/manual/threads:2", "reason": "single-threaded"},
           {"name": "larson/default/arena/manual/threads:2", "reason": "single-threaded"},
           {"name": "churn/mixed/glibc/refcount", "reason": "not this collector"}]
syn = dict(doc, benchmarks=rows, skipped=skipped)
json.dump(syn, open("%s/syn/20000101-000000_syn.json" % tmp, "w"))
# Memory samples: arena's 1.9 GiB beside the others' few MiB.
with open("%s/syn/20000101-000000_syn.samples.csv" % tmp, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["name", "workload", "variant", "allocator", "collector", "t_s", "phase",
                "rss_bytes", "live_bytes"])
    for alloc, peak in (("glibc", 5 * MiB), ("pool", 6 * MiB), ("arena", 1900 * MiB)):
        for i in range(20):
            w.writerow(["churn/mixed/%s/manual" % alloc, "churn", "mixed", alloc, "manual",
                        i / 100, "run", int(4 * MiB + (peak - 4 * MiB) * i / 19), MiB])
# The same run as a full one: no --quick on its command line.
full = dict(syn, context=dict(doc["context"], command_line=[
    x for x in doc["context"]["command_line"] if x != "--quick"]))
os.makedirs("%s/full" % tmp, exist_ok=True)
json.dump(full, open("%s/full/20000101-000000_full.json" % tmp, "w"))
PY
"${plots[@]}" "$tmp/syn" --out "$tmp/p-syn" >"$tmp/p-syn.out" 2>"$tmp/p-syn.err" \
  || die "plots.py on the synthetic run exited $?: $(cat "$tmp/p-syn.err")"
"${plots[@]}" "$tmp/full" --out "$tmp/p-full" >"$tmp/p-full.out" 2>"$tmp/p-full.err" \
  || die "plots.py on the full synthetic run exited $?: $(cat "$tmp/p-full.err")"
python3 - "$tmp" <<'PY' || fail=1
import html.parser, re, sys
tmp = sys.argv[1]
bad = []
page = open("%s/p-syn/report.html" % tmp, encoding="utf-8").read()

class Rows(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.best, self.pauses, self.table, self.cells, self.cell = {}, {}, None, [], None
        self.results = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.table = a.get("id")
        elif tag == "tr" and self.table == "summary-best" and "data-workload" in a:
            self.best[a["data-workload"]] = (a["data-fastest"], a["data-smallest"])
        elif tag == "tr" and self.table == "summary-pauses" and "data-collector" in a:
            self.pauses[a["data-collector"]] = float(a["data-p99-ns"])
        elif tag == "tr" and self.table == "results":
            self.cells = []
            self.results.append((a.get("data-cell"), self.cells))
        elif tag == "td" and self.table == "results":
            self.cell = ""
    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            self.cells.append(self.cell.strip())
            self.cell = None
    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
p = Rows()
p.feed(page)
want = {"churn": ("pool", "jemalloc"), "larson (1 thread)": ("glibc", "glibc"),
        "larson (2 threads)": ("jemalloc", "glibc"), "cycles": ("glibc", "glibc")}
for k, v in want.items():
    if p.best.get(k) != v:
        bad.append("summary: %s best (fastest, smallest) %s, expected %s" % (k, p.best.get(k), v))
if any(k.startswith("stress") for k in p.best):
    bad.append("summary ranks stress, which is not a benchmark")
if p.pauses != {"cycle": 3e5, "marksweep": 2e6}:
    bad.append("summary pause p99s %s, expected cycle 300 us, marksweep 2 ms" % p.pauses)
# Leaked bytes carry a unit: glibc's 5 MiB on churn/mixed.
leak = [c for name, c in p.results if name == "churn/mixed/glibc/manual"]
if not leak or "5.0 MiB" not in leak[0]:
    bad.append("churn/mixed/glibc's leaked bytes are not shown as 5.0 MiB: %s" % leak)
if "images loaded" in page:
    bad.append("the report still shows the image check's debug line")
m = re.search(r"<summary>(\d+) cells of the matrix did not run", page)
if not m or m.group(1) != "3":
    bad.append("the report counts %s skipped cells, the results list 3" % (m and m.group(1)))
# Item 7's plots.
svg = lambda d, stem: open("%s/%s/%s.svg" % (tmp, d, stem), encoding="utf-8").read()
thr = svg("p-syn", "throughput")
if "2 threads" not in thr:
    bad.append("the throughput plot drops the 2-thread bars")
if "workload: stress" in thr:
    bad.append("the throughput plot has a stress panel")
if "log scale" not in svg("p-syn", "memory_churn_mixed"):
    bad.append("churn memory with a 1.9 GiB peak is not on a log axis")
if "SMOKE RUN" not in thr or "SMOKE RUN" not in page:
    bad.append("a --quick run's plots or report are not marked SMOKE RUN")
if "SMOKE RUN" in svg("p-full", "throughput"):
    bad.append("a full run's plots are marked SMOKE RUN")
for b in bad:
    print("FAIL: " + b)
if not bad:
    print("ok   summary and item 7: best allocators, pause p99s, thread bars, stress, log "
          "axis, skipped count, leaked units, smoke banner")
sys.exit(1 if bad else 0)
PY

# A program run: its wall time drawn, no "collector: -", no live-bytes
# legend without live bytes, nothing on stderr.
"$bench" --allocator=glibc --out="$tmp/prog" -- /bin/sh -c 'seq 1 20000 | sort -n >/dev/null' \
  >"$tmp/prog.log" 2>&1 || { rc=$?; cat "$tmp/prog.log"; die "the program run exited $rc"; }
"${plots[@]}" "$tmp/prog" --out "$tmp/p-prog" >"$tmp/p-prog.out" 2>"$tmp/p-prog.err" \
  || die "plots.py on a program run exited $?"
[[ -s $tmp/p-prog.err ]] && die "plots.py wrote to stderr on a program run: $(cat "$tmp/p-prog.err")"
[[ -s $tmp/p-prog/program_time.svg ]] || die "a program run has no program_time plot"
if grep -l "collector: -\|live bytes (dashed)" "$tmp"/p-prog/*.svg; then
  die "a program run's plots name collector '-' or list live bytes it does not have"
fi
grep -q "throughput: skipped, no cell ran successfully" "$tmp/p-prog.out" \
  && die "plots.py says no cell ran successfully on a good program run"

# The console table: long names (binarytrees, default/t2) keep the columns
# in line, and leaked bytes have a column.
run table1 --allocator=glibc,pool --workload=trees
run table2 --allocator=glibc,pool --workload=larson --threads=1,2
python3 - "$tmp/table1.log" "$tmp/table2.log" <<'PY' || fail=1
import sys
bad, n = [], 0
for log in sys.argv[1:]:
    lines = open(log).read().splitlines()
    head = next((i for i, l in enumerate(lines) if l.startswith("workload ")), None)
    if head is None:
        bad.append("%s has no table" % log)
        continue
    header = lines[head]
    if "leaked" not in header:
        bad.append("the table has no leaked column: %s" % header)
    end = header.index("ns/op") + len("ns/op")
    for l in lines[head + 1:]:
        if l.startswith("results:"):
            break
        n += 1
        if len(l) <= end or l[end - 1] == " " or l[end] != " ":
            bad.append("a row out of line with the header:\n  %s\n  %s" % (header, l))
for b in bad:
    print("FAIL: " + b)
if not bad:
    print("ok   table: %d rows in line with their header, leaked column" % n)
sys.exit(1 if bad else 0)
PY

[[ $fail -eq 0 ]] && echo "views: all checks passed"
exit $fail
