#!/usr/bin/env bash
# cpython_compare_test.sh BENCH_DIR - scripts/cpython_compare.py does what it says.
#
# BENCH_DIR is heaplab's source tree (the one holding scripts/ and harness/).
# A quick run writes one JSON document in Google Benchmark's shape and a CSV
# with heaplab's core columns; the rows carry the figures promised; list and
# generator agree on the checksum while the generator's live peak is a small
# fraction of the list's; gc.collect() frees exactly the objects built.
# --compare prints the side-by-side table from a hand-made heaplab file.
# The threshold policy: heaplab (BENCH, default build/heaplab) and CPython
# collect each generation equally often on the same allocation sequence.
# Bad command lines get one line on stderr, nothing on stdout, exit 2.
dir=${1:-$(cd "$(dirname "$0")/.." && pwd)}
script=$dir/scripts/cpython_compare.py
[[ -f $script ]] || { echo "FAIL: no $script"; exit 1; }
. "$(dirname "$0")/lib.sh"

python3 "$script" --quick --repetitions=2 --collector=cpython-gc,cpython-refcount \
  --param ops=2000 --param batch=2000 --param collect=1 --out="$tmp/r" >"$tmp/run" 2>&1 || { cat "$tmp/run"; die "quick run exited non-zero"; }
cat "$tmp/run"
json=$(compgen -G "$tmp/r/*_cpython_cycles+genlist.json" | head -1)
csv=${json%.json}.csv
[[ -n $json && -f $json && -f $csv ]] || die "results files missing in $tmp/r"
compgen -G "$tmp/r/*.tmp.*" >/dev/null && die "temporary files left behind"
basename "$json" | grep -Eq '^[0-9]{8}-[0-9]{6}_cpython_cycles\+genlist\.json$' \
  || die "results file name $(basename "$json") not <YYYYmmdd-HHMMSS>_cpython_<workloads>.json"

[[ -n $json && -f $json ]] && python3 - "$json" "$csv" "$dir/harness/results.c" <<'PY' || fail=1
import csv, json, os, re, sys
doc = json.load(open(sys.argv[1]))
rows = doc["benchmarks"]
bad = []
for key in ("date", "host_name", "num_cpus", "python_version", "kernel", "command_line"):
    if key not in doc["context"]: bad.append("context lacks " + key)
its = [r for r in rows if r.get("run_type") == "iteration"]
aggs = [r for r in rows if r.get("run_type") == "aggregate"]
cells = {(r["workload"], r["variant"], r["collector"]) for r in its}
cyc_variants = [s + f + k for s in ("pairs", "rings", "dlist", "tree") for f in ("", "-fin")
                for k in ("", "-slots")]
nodes_of = {"pairs": 2, "rings": 8, "dlist": 16, "tree": 15}
want_cells = {("cycles", v, "cpython-gc") for v in cyc_variants} | {
              ("genlist", "list", "cpython-gc"), ("genlist", "generator", "cpython-gc"),
              ("genlist", "list", "cpython-refcount"), ("genlist", "generator", "cpython-refcount")}
if cells != want_cells: bad.append("cells %s, expected %s" % (sorted(cells), sorted(want_cells)))
if len(its) != 40: bad.append("expected 40 iteration rows (20 cells x 2 repetitions), got %d" % len(its))
if len(aggs) != 80: bad.append("expected 80 aggregate rows (mean/median/stddev/cv), got %d" % len(aggs))
if len(doc.get("skipped", [])) != 16: bad.append("cycles under cpython-refcount should be skipped")
want = ("name", "run_name", "run_type", "repetitions", "repetition_index", "threads", "iterations",
        "real_time", "cpu_time", "time_unit", "workload", "variant", "allocator",
        "allocator_version", "collector", "params", "seed", "ops", "seconds", "ns_per_op",
        "ops_per_sec", "rss_base", "rss_peak", "rss_end", "live_peak", "leaked_bytes",
        "checksum", "gc_collections_gen0", "gc_collected_gen0", "gc_collections_gen2",
        "gc_pauses", "gc_pause_total_ns")
cyc = ("wl_collect_ns", "wl_collect_objects", "wl_collect_ns_per_object")
for r in its:
    n = r.get("name")
    for k in want + (cyc if r.get("workload") == "cycles" else ()):
        if k not in r: bad.append("%s lacks %s" % (n, k))
    for k, v in r.items():
        if v is None: bad.append("%s: %s is null (absent figures are omitted)" % (n, k))
    if r.get("allocator") != "cpython-pymalloc": bad.append("%s allocator %s" % (n, r.get("allocator")))
    v = r.get("allocator_version", "")
    if not (v.startswith("CPython 3.") and v.endswith(" pymalloc")): bad.append("allocator_version %r" % v)
    if r.get("time_unit") != "ns": bad.append("%s time_unit" % n)
    if abs(r.get("ns_per_op", 0) - r.get("real_time", 1)) > 1e-9: bad.append("%s ns_per_op != real_time" % n)
    if r.get("ops") != r.get("iterations"): bad.append("%s ops != iterations" % n)
    if r.get("rss_peak", 0) < r.get("rss_base", 1): bad.append("%s rss_peak < rss_base" % n)
    if r.get("leaked_bytes", 1 << 30) > 1024: bad.append("%s leaked %s bytes" % (n, r.get("leaked_bytes")))
    if not re.fullmatch(r"[0-9a-f]{16}", str(r.get("checksum"))): bad.append("%s checksum %r" % (n, r.get("checksum")))
    if r.get("workload") == "cycles":
        built = nodes_of[r["variant"].split("-")[0]] * r["ops"]
        if "-fin" in r["variant"] and r.get("wl_finalized") != built:
            bad.append("%s: %s __del__ calls for %d objects" % (n, r.get("wl_finalized"), built))
        if r.get("params") != "ops=2000,batch=2000,collect=1": bad.append("%s params %s" % (n, r.get("params")))
        if r.get("wl_collect_objects") != built:
            bad.append("%s collected %s objects, built %d" % (n, r.get("wl_collect_objects"), built))
        if r.get("objects_allocated") != built or r.get("objects_freed") != built:
            bad.append("%s objects_allocated/freed %s/%s" % (n, r.get("objects_allocated"), r.get("objects_freed")))
        if r.get("gc_collected_gen2") != built: bad.append("%s gc_collected_gen2 %s" % (n, r.get("gc_collected_gen2")))
        per = r["wl_collect_ns"] / r["wl_collect_objects"]
        if abs(per - r["wl_collect_ns_per_object"]) > 1e-6 * per: bad.append("%s ns per object inconsistent" % n)
        if r.get("collector") != "cpython-gc": bad.append("%s collector" % n)
    else:
        if r.get("params") != "items=100000": bad.append("%s params %s" % (n, r.get("params")))
        if r.get("collector") == "cpython-refcount" and r.get("gc_pauses") != 0:
            bad.append("%s: collector ran with gc disabled" % n)
sums = {}
for r in its:
    if r["workload"] == "genlist": sums.setdefault(r["variant"], set()).add(r["checksum"])
if len(sums.get("list", ())) != 1 or sums.get("list") != sums.get("generator"):
    bad.append("genlist checksums differ: %s" % sums)
peak = {}
for r in its:
    if r["workload"] == "genlist": peak.setdefault(r["variant"], []).append(r["live_peak"])
if peak and max(peak["generator"]) * 100 > min(peak["list"]):
    bad.append("generator live_peak %s not far below list's %s" % (peak["generator"], peak["list"]))
if peak and min(peak["list"]) < 100000 * 40:
    bad.append("list live_peak %s below 40 bytes per item" % peak["list"])
for r in aggs:
    if r.get("aggregate_name") not in ("mean", "median", "stddev", "cv"): bad.append("aggregate %s" % r.get("name"))
# The CSV: heaplab's columns in heaplab's order, iteration rows only.
header = next(csv.reader(open(sys.argv[2])))
if os.path.exists(sys.argv[3]):
    src = open(sys.argv[3]).read()
    m = re.search(r"csv_columns\[\]\s*=\s*\{(.*?)\};", src, re.S)
    cols = re.findall(r'"([^"]+)"', m.group(1)) if m else None
    if cols and header[:len(cols)] != cols: bad.append("CSV columns %s differ from heaplab's %s" % (header, cols))
lines = list(csv.DictReader(open(sys.argv[2])))
if len(lines) != 40: bad.append("csv has %d rows, expected 40" % len(lines))
for line in lines:
    if line["status"] != "ok": bad.append("csv row not ok: %s" % line)
    if line["allocs"] != "": bad.append("csv: allocs should be empty (not measured), got %r" % line["allocs"])
for b in bad: print("FAIL:", b)
sys.exit(1 if bad else 0)
PY

# --compare against a hand-made heaplab file (a test input, not a measurement).
mk_heaplab() {  # mk_heaplab FILE NS_PER_OBJECT
  cat >"$1" <<EOF
{"context": {"note": "hand-made test input"}, "benchmarks": [
 {"name": "cycles/pairs/pool/cycle", "run_name": "cycles/pairs/pool/cycle", "run_type": "iteration",
  "workload": "cycles", "variant": "pairs", "allocator": "pool", "collector": "cycle",
  "params": "ops=2000,batch=2000,collect=1", "wl_collect_ns": $(( $2 * 4000 )), "wl_collect_objects": 4000,
  "wl_collect_ns_per_object": $2},
 {"name": "cycles/pairs/pool/refcount", "workload": "cycles", "variant": "pairs", "allocator": "pool",
  "collector": "refcount", "params": "ops=2000,batch=2000,collect=1", "wl_collect_ns_per_object": 1}]}
EOF
}
if [[ -n $json && -f $json ]]; then
  mk_heaplab "$tmp/fast.json" 1
  python3 "$script" --compare "$tmp/fast.json" --cpython-json "$json" >"$tmp/cmp" 2>&1 \
    || { cat "$tmp/cmp"; die "--compare (1 ns/object) exited non-zero"; }
  cat "$tmp/cmp"
  grep -Eq '^pairs +pool .* plain .*x$' "$tmp/cmp" || die "--compare: no line against the plain class"
  grep -Eq '^pairs +pool .* __slots__ .*x$' "$tmp/cmp" || die "--compare: no line against __slots__"
  grep -q '^Benchmark target: not judged' "$tmp/cmp" || die "--compare: no target line"
  grep -q 'CPU: ' "$tmp/cmp" || die "--compare: no CPU model"
  grep -q 'refcount' "$tmp/cmp" && die "--compare: used a row of another collector"
  python3 "$script" --compare "$tmp/fast.json" --cpython-json "$json" --require-target >"$tmp/cmp2" 2>&1
  rc=$?
  [[ $rc -eq 1 ]] || die "--compare --require-target with the target not judged: exit $rc, expected 1"
  echo '{"context": {}, "benchmarks": []}' >"$tmp/none.json"
  python3 "$script" --compare "$tmp/none.json" --cpython-json "$json" >"$tmp/cmp3" 2>&1
  rc=$?
  if [[ $rc -ne 1 ]] || ! grep -q "no usable cycles rows" "$tmp/cmp3"; then
    die "--compare without heaplab rows: exit $rc: $(cat "$tmp/cmp3")"
  fi
fi

# The threshold policy on the same allocation sequence: heaplab's cycle
# collector at 700/10/10 and CPython's gc at its defaults, no explicit
# collection, must collect each generation equally often (docs/cpython.md).
bench=${BENCH:-$dir/build/heaplab}
if [[ -x $bench ]]; then
  # About 200,000 objects each: enough for automatic full collections
  # (11 x 11 x 701 allocations), so the long-lived rule takes part.
  for v_ops in pairs:100000 rings:25000 dlist:12500 tree:13400; do
    "$bench" --workload=cycles --collector=cycle --allocator=pool --param variant=${v_ops%:*} \
      --param ops=${v_ops#*:} --param batch=70 \
      --out="$tmp/pol" >/dev/null 2>&1 || die "heaplab policy run of $v_ops failed"
  done
  jq -s '{context: .[0].context, benchmarks: (map(.benchmarks) | add)}' "$tmp"/pol/*.json >"$tmp/pol.json"
  python3 "$script" --compare "$tmp/pol.json" --out="$tmp/polpy" >"$tmp/polcmp" 2>&1 \
    || { cat "$tmp/polcmp"; die "--compare of the threshold policy exited non-zero"; }
  grep -A12 '^Threshold policy' "$tmp/polcmp"
  [[ $(grep -Ec ' (yes|NO) +(same|differ)$' "$tmp/polcmp") -eq 8 ]] || die "policy: expected 8 lines (4 shapes x 2 classes)"
  grep -E ' NO ' "$tmp/polcmp" && die "policy: collections per generation differ between heaplab and CPython"
  # The objects collected per generation may differ slightly (docs/cpython.md).
else
  die "no heaplab binary at $bench (set BENCH)"
fi

# Bad command lines: one line on stderr naming the problem, exit 2.
while IFS='|' read -r args phrase; do
  args="${args%"${args##*[![:space:]]}"}"; phrase=${phrase# }
  [[ -z $args ]] && continue
  # shellcheck disable=SC2086
  python3 "$script" --out="$tmp/bad" $args >"$tmp/stdout" 2>"$tmp/stderr"
  check_refusal "$args" $? "$phrase"
done <<'TABLE'
--workload=nope                | unknown workload 'nope'
--workload=                    | missing value
--workload=cycles,             | empty name
--collector=gc                 | unknown collector 'gc'
--repetitions=0                | out of range
--repetitions=x                | not a whole number
--seed=-1                      | out of range
--param ops=abc                | --param ops: 'abc' is not a whole number
--param nope=1                 | unknown parameter 'nope'
--param variant=nope           | unknown variant 'nope'
--param items=5 --workload=cycles | belongs to no selected workload
--compare /nonexistent/h.json  | no such file
--cpython-json x.json          | needs --compare
--frobnicate                   | unrecognized arguments
TABLE
[[ $fail -eq 0 ]] && echo "cpython_compare: all checks passed"
exit $fail
