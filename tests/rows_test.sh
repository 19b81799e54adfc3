#!/usr/bin/env bash
# rows_test.sh BENCH - every figure on a row belongs to that row.
#
# No timing assertions: each check is an identity between a row and the run
# it stands for.
#  - A repetition's workload and collector figures are its own run's: the
#    clock-based wl_collect_ns_per_object of three repetitions cannot all be
#    the same double (one pass copied onto every row would be), and each
#    aggregate holds that statistic of the repetitions' values.
#  - An aggregate's ops and seconds are the mean (median) of the
#    repetitions', not Google Benchmark's repetition count; its iterations
#    is that count.  The same for the matrix's aggregates of interleaved
#    repetitions (--shuffle), where each repetition is its own process.
#  - Under --min-time the row's ops are the iterations Google Benchmark ran,
#    params do not claim the ops parameter, and memory_pass_ops says what the
#    memory pass ran.
bench=$1
. "$(dirname "$0")/lib.sh"
run() { # DIR ARGS...: one run into $tmp/DIR
  local dir=$1; shift
  "$bench" --quick --out="$tmp/$dir" "$@" >"$tmp/$dir.log" 2>&1 \
    || { cat "$tmp/$dir.log"; die "bench $* exited non-zero"; }
}

run reps --workload=cycles --param variant=rings --param collect=1 --allocator=pool --repetitions=3
run mintime --workload=churn --param variant=fixed64 --allocator=pool --min-time=0.02 --repetitions=2
run shuffle --workload=churn --param variant=fixed64 --allocator=pool --min-time=0.02 --repetitions=3 \
  --shuffle
python3 - "$tmp" <<'PY' || fail=1
import glob, json, statistics, sys
tmp = sys.argv[1]
bad = []
def rows(d):
    return json.load(open(glob.glob("%s/%s/*.json" % (tmp, d))[0]))["benchmarks"]
def close(a, b):
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1e-300)
def split(rs):
    reps = [r for r in rs if r.get("run_type") == "iteration"]
    aggs = {r["aggregate_name"]: r for r in rs if r.get("run_type") == "aggregate"}
    return reps, aggs
def check_aggregates(what, reps, aggs, keys):
    for stat, f in (("mean", statistics.mean), ("median", statistics.median)):
        a = aggs.get(stat)
        if a is None:
            bad.append("%s: no %s row" % (what, stat)); continue
        if a.get("iterations") != len(reps):
            bad.append("%s %s: iterations %s, not the %d repetitions" % (what, stat, a.get("iterations"), len(reps)))
        for k in keys:
            want = f([r[k] for r in reps])
            if not isinstance(a.get(k), (int, float)) or not close(a[k], want):
                bad.append("%s %s: %s is %s, the %s of the repetitions' is %s" % (what, stat, k, a.get(k), stat, want))
    for stat in ("stddev", "cv"):
        if stat in aggs and "ops" in aggs[stat]:
            bad.append("%s %s: carries ops %s" % (what, stat, aggs[stat]["ops"]))

# Per-repetition workload figures.
reps, aggs = split(rows("reps"))
if len(reps) != 3: bad.append("reps: %d repetition rows, expected 3" % len(reps))
vals = [r.get("wl_collect_ns_per_object") for r in reps]
if None in vals: bad.append("reps: a row lacks wl_collect_ns_per_object: %s" % vals)
elif len(set(vals)) == 1:
    bad.append("reps: wl_collect_ns_per_object %r on every row: copied from one pass" % vals[0])
for r in reps:
    if r.get("ops") != r.get("iterations"): bad.append("reps: ops %s != iterations %s" % (r.get("ops"), r.get("iterations")))
    if "gc_collections_gen0" not in r: bad.append("reps: no gc_collections_gen0 on %s" % r["name"])
    for k in r:
        if k.startswith("memory_pass_wl_") and "wl_" + k[len("memory_pass_wl_"):] in r:
            bad.append("reps: %s and its run's own figure both on a row" % k)
if None not in vals:
    check_aggregates("reps", reps, aggs, ("ops", "seconds", "wl_collect_ns_per_object"))

# --min-time: what ran is what the row says.
reps, aggs = split(rows("mintime"))
if len(reps) != 2: bad.append("mintime: %d repetition rows, expected 2" % len(reps))
for r in reps:
    if r.get("ops") != r.get("iterations"): bad.append("mintime: ops %s != iterations %s" % (r.get("ops"), r.get("iterations")))
    p = r.get("params", "").split(",")
    if any(x.startswith("ops=") for x in p) or "min_time=0.02" not in p:
        bad.append("mintime: params %r claim an ops count or lack min_time" % r.get("params"))
    if r.get("memory_pass_ops") != 200000: bad.append("mintime: memory_pass_ops %s" % r.get("memory_pass_ops"))
check_aggregates("mintime", reps, aggs, ("ops", "seconds"))

# Interleaved repetitions: the matrix's own aggregates.
reps, aggs = split(rows("shuffle"))
if len(reps) != 3: bad.append("shuffle: %d repetition rows, expected 3" % len(reps))
check_aggregates("shuffle", reps, aggs, ("ops", "seconds", "memory_pass_ops"))

# Names stay what results and baselines call them (Google Benchmark would
# add "/process_time" for process CPU time, which every heaplab run uses).
for d in ("reps", "mintime", "shuffle"):
    for r in rows(d):
        if "process_time" in r["name"] or "process_time" in r.get("run_name", ""):
            bad.append("%s: name %s carries Google Benchmark's /process_time" % (d, r["name"]))

for b in bad: print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
[[ $fail == 0 ]] && echo "rows_test: all checks passed"
exit $fail
