#!/usr/bin/env bash
# heapsweep_test.sh BENCH - --heap-sweep (harness/heapsweep.c,
# docs/heap-sweep.md) on a small workload (trees binarytrees, --quick).
# No timing assertions: every check is about limits, not speed.
#  1. The bisection's minimum is right: for tracing and marksweep, the
#     cell run alone (--run-cell) completes under heap_min_bytes and fails
#     under heap_min_below_bytes, and the two are within the documented
#     precision (a page, or the bracket's top / 2^8).
#  2. Collections come before failure: the minimum lies well below (3/4)
#     the heap the unlimited run used (marksweep's 2x trigger, Boehm's
#     growth), which it does not when an allocation over the limit fails
#     without a full collection first (Boehm with no retries: 0.88).
#  3. The sweep's rows: one iteration row per factor (probes are not
#     rows), each named for its point, heap_limit_bytes = ceil(factor x
#     minimum), strictly increasing with the factor; cycle's rows climb
#     the threshold ladder 100..11200 and carry no heap figure.
# The allocator is the pool: in-process, so the test also runs under ASan.
#  4. plots.py draws heapsweep_trees and the report shows it (skipped
#     without gnuplot).
#  5. A plan with a skipped cell (tracing's own heap runs under the first
#     allocator only) sweeps the others and keeps the skipped one as it was.
bench=$1
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/.." && pwd)

"$bench" --quick --workload=trees --param variant=binarytrees --allocator=pool \
  --collector=tracing,marksweep,cycle \
  --heap-sweep=1.25,2,4 --out="$tmp/sweep" >"$tmp/sweep.log" 2>&1 \
  || { cat "$tmp/sweep.log"; die "the sweep exited non-zero"; }
json=$(ls "$tmp"/sweep/*.json 2>/dev/null | head -1)
[[ -n $json ]] || { cat "$tmp/sweep.log"; die "no results"; exit 1; }

python3 - "$json" >"$tmp/check.out" <<'PY' || { cat "$tmp/check.out"; die "sweep rows"; }
import json, math, sys
rows = [r for r in json.load(open(sys.argv[1]))["benchmarks"] if r.get("run_type") == "iteration"]
bad = 0
def fail(msg):
    global bad
    bad = 1
    print("FAIL: " + msg)
for coll in ("tracing", "marksweep"):
    mine = sorted((r for r in rows if r["collector"] == coll), key=lambda r: r.get("heap_factor", 0))
    if [r.get("heap_factor") for r in mine] != [1.25, 2, 4]:
        fail("%s: factors %s, expected one row each of 1.25, 2, 4 (no probe rows)"
             % (coll, [r.get("heap_factor") for r in mine]))
        continue
    for r in mine:
        if r.get("error_occurred"):
            fail("%s: %s" % (r["name"], r.get("error_message")))
        if "/heap:%gx" % r["heap_factor"] not in r["name"]:
            fail("%s: name lacks its point" % r["name"])
    lo, mn, top = (mine[0].get(k) for k in ("heap_min_below_bytes", "heap_min_bytes", "heap_upper_bytes"))
    if None in (lo, mn, top) or not lo < mn <= top:
        fail("%s: want below < min <= upper, got %s %s %s" % (coll, lo, mn, top))
        continue
    if mn - lo > max(4096, math.ceil(top / 2.0 ** 8)):
        fail("%s: bracket %d..%d wider than the precision max(4096, %d / 256 rounded up)" % (coll, lo, mn, top))
    limits = [r.get("heap_limit_bytes") for r in mine]
    want = [math.ceil(r["heap_factor"] * mn) for r in mine]
    if limits != want or not all(a < b for a, b in zip(limits, limits[1:])):
        fail("%s: limits %s, want increasing %s" % (coll, limits, want))
    if not mn < 0.75 * top:
        fail("%s: minimum %d not below 3/4 of the unlimited run's %d: no collection "
             "before failing?" % (coll, mn, top))
    print("%s %d %d" % (coll, mn, lo))  # for the --run-cell checks
cyc = sorted((r for r in rows if r["collector"] == "cycle"), key=lambda r: r.get("gc_threshold0", 0))
ladder = [r.get("gc_threshold0") for r in cyc]
if ladder != [100, 350, 700, 1400, 2800, 5600, 11200]:
    fail("cycle: thresholds %s, expected the ladder 100..11200" % ladder)
if any(k.startswith("heap_") for r in cyc for k in r):
    fail("cycle: a heap_* figure on a threshold point")
sys.exit(bad)
PY
[[ $fail -eq 0 ]] && cat "$tmp/check.out"

# 1. the cell alone, under the minimum and just below it
while read -r coll min below; do
  cell=(--run-cell --quick --workload=trees --param variant=binarytrees --allocator=pool
        --collector="$coll" --cell-out="$tmp/cell.json")
  "$bench" "${cell[@]}" --gc-heap-limit="$min" 2>"$tmp/err" \
    || die "$coll fails at its minimum $min: $(cat "$tmp/err")"
  if "$bench" "${cell[@]}" --gc-heap-limit="$below" 2>"$tmp/err"; then
    die "$coll completes below its minimum, at $below"
  else
    echo "ok   $coll completes at $min, fails at $below: $(tail -1 "$tmp/err")"
  fi
done < <(grep -E '^(tracing|marksweep) ' "$tmp/check.out")

# 5. a skipped cell in the plan
"$bench" --quick --workload=trees --param variant=binarytrees --allocator=pool,arena \
  --collector=tracing --heap-sweep=2 --out="$tmp/skip" >"$tmp/skip.log" 2>&1
rc=$?
if [[ $rc -ne 0 ]]; then
  cat "$tmp/skip.log"
  die "a sweep with a skipped cell exited $rc"
else
  python3 - "$tmp"/skip/*.json <<'PY' || die "a sweep with a skipped cell: wrong rows"
import json, sys
d = json.load(open(sys.argv[1]))
rows = [r for r in d["benchmarks"] if r.get("run_type") == "iteration"]
skipped = d.get("skipped", [])
assert any(r["allocator"] == "pool" and r.get("heap_factor") == 2 for r in rows), rows
assert [s for s in skipped if "arena" in json.dumps(s)], skipped
print("ok   the sweep ran pool's point and kept arena's cell skipped")
PY
fi

# 4. the plot
if command -v gnuplot >/dev/null; then
  python3 "$top/scripts/plots.py" "$json" --out="$tmp/plots" >"$tmp/plots.log" 2>&1 \
    || { cat "$tmp/plots.log"; die "plots.py failed"; }
  [[ -s $tmp/plots/heapsweep_trees.png ]] || die "no heapsweep_trees.png"
  grep -q 'heapsweep_trees.png' "$tmp/plots/report.html" 2>/dev/null || die "report lacks heapsweep_trees"
  grep -q "skipped" "$tmp/plots.log" && die "a sweep alone printed skipped views: $(grep skipped "$tmp/plots.log")"
fi
exit $fail
