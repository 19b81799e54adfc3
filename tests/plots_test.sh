#!/usr/bin/env bash
# plots_test.sh BENCH - `make plots` draws what a run holds, and says so when
# it cannot.
#
# On a fresh quick run (every workload and collector, three allocators, two
# repetitions): every plot the results call for exists as a PNG and an SVG,
# non-empty, titled and with units on its axes, and no other plot does; the
# report shows each one.  Then: a directory without results and a missing
# file each get one line on stderr and exit 2; a named results file (or its
# .csv) is drawn instead of the newest; a run without memory samples loses
# only its memory plots; a thread sweep draws the scaling plot; a run whose
# every cell failed still gets a report.  Needs python3 and gnuplot
# (gnuplot-nox); exits 77 (skipped) without gnuplot.
set -u
bench=$1
top=$(cd "$(dirname "$0")/.." && pwd)
plots=(python3 "$top/scripts/plots.py")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
die() { echo "FAIL: $*"; fail=1; }

command -v gnuplot >/dev/null || { echo "SKIP: gnuplot is not installed (Debian: gnuplot-nox)"; exit 77; }

# ------------------------------------------------------------ a fresh run --
"$bench" --quick --allocator=glibc,pool,arena --workload=all --collector=all --repetitions=2 \
  --out="$tmp/r" >"$tmp/run" 2>&1
rc=$?
jsons=("$tmp"/r/*.json)
json=${jsons[0]}
if [[ $rc -gt 1 || ! -f $json ]]; then
  cat "$tmp/run"
  echo "FAIL: the quick run exited $rc and wrote no results"
  exit 1
fi
stem=${json%.json}

# The plots a results file calls for, worked out here from the JSON and the
# samples independently of scripts/plots.py.
expected() {
  python3 - "$1" <<'PY'
import csv, json, os, sys
path = sys.argv[1]
# stress is a correctness check, not a benchmark: the plots leave it out.
rows = [r for r in json.load(open(path))["benchmarks"] if "workload" in r and r["workload"] != "stress"]
ok = [r for r in rows if not r.get("error_occurred") and r.get("run_type") != "aggregate"]
want = set()
if any("ns_per_op" in r for r in ok):
    want.add("throughput")
if any("fragmentation" in r for r in ok):
    want.add("fragmentation")
if any(r.get("gc_pauses", 0) > 0 and "gc_pause_max_ns" in r for r in ok):
    want.add("gc_pauses")
samples = path[: -len(".json")] + ".samples.csv"
if os.path.exists(samples):
    for s in csv.DictReader(open(samples)):
        if s["workload"] != "stress":
            want.add("memory_%s_%s" % (s["workload"], s["variant"]))
for r in ok:
    if any(k.startswith("mmu_") for k in r):
        want.add("mmu_%s" % r["workload"])
    if r.get("latency_alloc_samples"):
        want.add("latency_%s_%s" % (r["workload"], r["variant"]))
    if r.get("soak_cycles") and os.path.exists(path[: -len(".json")] + ".samples.csv"):
        want.add("soak_%s_%s" % (r["workload"], r["variant"]))
    if r["workload"] == "program" and "seconds" in r:
        want.add("program_time")
threads = {}
for r in ok:
    threads.setdefault((r["workload"], r["variant"]), set()).add(r.get("threads", 1))
for (w, v), t in threads.items():
    if len(t) > 1:
        want.add("scaling_%s_%s" % (w, v))
print("\n".join(sorted(want)))
PY
}

# check_plots DIR RESULTS: DIR holds exactly the plots RESULTS calls for,
# each a real PNG and SVG with a title and units, all shown by the report.
check_plots() {
  local dir=$1 results=$2
  expected "$results" >"$tmp/want"
  [[ -s $tmp/want ]] || die "no plots expected from $results: test data too thin"
  python3 - "$dir" "$tmp/want" <<'PY' || fail=1
import os, re, struct, sys
d, want = sys.argv[1], open(sys.argv[2]).read().split()
bad = []
units = re.compile(r"\((ns/op|ratio|[KMG]iB|ns|\u00b5s|ms|s|million operations per second)\)")
for stem in want:
    png, svg = os.path.join(d, stem + ".png"), os.path.join(d, stem + ".svg")
    if not os.path.isfile(png) or os.path.getsize(png) == 0:
        bad.append("%s.png missing or empty" % stem)
    else:
        head = open(png, "rb").read(24)
        w, h = struct.unpack(">II", head[16:24])
        if head[:8] != b"\x89PNG\r\n\x1a\n" or w < 600 or h < 300:
            bad.append("%s.png is not a readable PNG (%dx%d)" % (stem, w, h))
    if not os.path.isfile(svg) or os.path.getsize(svg) == 0:
        bad.append("%s.svg missing or empty" % stem)
        continue
    text = open(svg, encoding="utf-8").read()
    if "<svg" not in text or "</svg>" not in text:
        bad.append("%s.svg is not a whole SVG" % stem)
    if not units.search(text):
        bad.append("%s.svg: no axis label with units" % stem)
    kind = stem if stem in ("gc_pauses", "program_time") else stem.split("_")[0]
    title = {"throughput": "Throughput", "fragmentation": "Fragmentation", "gc_pauses": "GC pauses",
             "memory": "Memory over time", "scaling": "Thread scaling",
             "latency": "Latency tail", "mmu": "Minimum mutator utilisation",
             "soak": "Soak", "program_time": "Program run time"}[kind]
    if title not in text:
        bad.append("%s.svg: no title '%s'" % (stem, title))
drawn = sorted(f for f in os.listdir(d) if f.endswith((".png", ".svg")))
extra = sorted(set(drawn) - {s + e for s in want for e in (".png", ".svg")})
if extra:
    bad.append("plots that the results do not call for: %s" % ", ".join(extra))
report = os.path.join(d, "report.html")
if not os.path.isfile(report):
    bad.append("report.html missing")
else:
    page = open(report, encoding="utf-8").read()
    for stem in want:
        if '<img src="%s.png"' % stem not in page:
            bad.append("report.html does not show %s.png" % stem)
for b in bad:
    print("FAIL: " + b)
if not bad:
    print("ok   %d plots drawn in %s: %s" % (len(want), d, " ".join(want)))
sys.exit(1 if bad else 0)
PY
}

"${plots[@]}" "$tmp/r" --out "$tmp/p" >"$tmp/out" 2>"$tmp/err" \
  || die "plots.py exited $? on a fresh run: $(cat "$tmp/err")"
[[ -s $tmp/err ]] && die "plots.py wrote to stderr on a good run: $(cat "$tmp/err")"
grep -qF "results $json" "$tmp/out" || die "plots.py did not take the run's JSON: $(head -1 "$tmp/out")"
check_plots "$tmp/p" "$json"
grep -q "note: thread scaling: skipped" "$tmp/out" || die "no note for the skipped scaling plot"

# ------------------------------------------------------------- no results --
no_results() {
  local what=$1; shift
  "${plots[@]}" "$@" --out "$tmp/none-out" >"$tmp/stdout" 2>"$tmp/stderr"
  local rc=$? lines
  lines=$(wc -l <"$tmp/stderr")
  if [[ $rc -ne 2 ]]; then die "$what: exit $rc, expected 2"
  elif [[ $lines -ne 1 ]]; then die "$what: $lines lines on stderr, expected 1: $(cat "$tmp/stderr")"
  elif [[ -s $tmp/stdout ]]; then die "$what: wrote to stdout"
  elif [[ -e $tmp/none-out/report.html ]]; then die "$what: wrote a report"
  else echo "ok   $what -> $(cat "$tmp/stderr")"
  fi
}
mkdir -p "$tmp/empty"
no_results "empty results directory" "$tmp/empty"
no_results "missing results file" "$tmp/empty/nothing.json"
echo '{"context": {}, "benchmarks": []}' >"$tmp/empty/20000101-000000_x.json"
no_results "results file without rows" "$tmp/empty"

# ---------------------------------------------------------- a named file --
# An older run beside the fresh one: churn only, without samples.  The
# directory means the newest; a named file means that file.
mkdir -p "$tmp/two"
cp "$json" "$stem.samples.csv" "$tmp/two/"
old="$tmp/two/20000101-000000_churn_old.json"
python3 - "$json" "$old" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["benchmarks"] = [r for r in doc["benchmarks"] if r.get("workload") == "churn"]
doc["skipped"] = []
json.dump(doc, open(sys.argv[2], "w"))
PY
"${plots[@]}" "$tmp/two" --out "$tmp/p2" >"$tmp/out" 2>"$tmp/err" || die "plots.py on a directory exited $?"
grep -qF "results $tmp/two/$(basename "$json")" "$tmp/out" \
  || die "a directory did not mean its newest run: $(head -1 "$tmp/out")"
"${plots[@]}" "$old" --out "$tmp/p2" >"$tmp/out" 2>"$tmp/err" \
  || die "plots.py on a named file exited $?: $(cat "$tmp/err")"
grep -qF "results $old" "$tmp/out" || die "the named file was not the one drawn: $(head -1 "$tmp/out")"
grep -q "note: memory over time: skipped, no .*samples.csv" "$tmp/out" || die "no note for the missing samples"
check_plots "$tmp/p2" "$old"   # also: the first run's memory plots are gone from p2
grep -q 'data-cell="cycles/' "$tmp/p2/report.html" && die "the report of the churn-only run lists cycles cells"
"${plots[@]}" "${stem}.csv" --out "$tmp/p3" >"$tmp/out" 2>&1 || die "plots.py on a .csv exited $?"
grep -qF "results $json" "$tmp/out" || die "naming the .csv did not draw its run: $(head -1 "$tmp/out")"

# ------------------------------------------------ a thread sweep; failures --
mkdir -p "$tmp/sweep" "$tmp/failed"
python3 - "$json" "$tmp/sweep/20000101-000000_sweep.json" "$tmp/failed/20000101-000000_failed.json" <<'PY'
import copy, json, sys
doc = json.load(open(sys.argv[1]))
churn = [r for r in doc["benchmarks"] if r.get("workload") == "churn"]
sweep = []
for t in (1, 2, 4):
    for r in churn:
        r = copy.deepcopy(r)
        r["threads"] = t
        if r.get("run_type") != "aggregate" or r.get("aggregate_name") in ("mean", "median"):
            r["ops_per_sec"] = r["ops_per_sec"] * t * 0.9
        sweep.append(r)
json.dump(dict(doc, benchmarks=sweep, skipped=[]), open(sys.argv[2], "w"))
failed = [{"name": r["name"], "run_type": "iteration", "error_occurred": True,
           "error_message": "cell crashed (test)", "workload": r["workload"], "variant": r["variant"],
           "allocator": r["allocator"], "collector": r["collector"]}
          for r in churn if r.get("run_type") == "iteration" and r.get("repetition_index") == 0]
json.dump(dict(doc, benchmarks=failed, skipped=[]), open(sys.argv[3], "w"))
PY
"${plots[@]}" "$tmp/sweep" --out "$tmp/p4" >"$tmp/out" 2>"$tmp/err" \
  || die "plots.py on a thread sweep exited $?: $(cat "$tmp/err")"
check_plots "$tmp/p4" "$tmp/sweep/20000101-000000_sweep.json"
"${plots[@]}" "$tmp/failed" --out "$tmp/p5" >"$tmp/out" 2>"$tmp/err" \
  || die "plots.py on failed cells exited $?: $(cat "$tmp/err")"
grep -q "note: throughput: skipped" "$tmp/out" || die "no note for the throughput plot of a failed run"
grep -q 'class="failed"' "$tmp/p5/report.html" || die "the report does not show the failed cells"

[[ $fail -eq 0 ]] && echo "plots: all checks passed"
exit $fail
