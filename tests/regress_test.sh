#!/usr/bin/env bash
# regress_test.sh BENCH - the regression check catches real regressions and
# never cries wolf.
#
#  - A/A: the same build run twice (instruction counts under Callgrind) flags
#    nothing;
#  - a test-only decorator adding ~10% instructions per allocation is flagged,
#    and so is one that leaks;
#  - the timing verdict, on synthetic repetitions: same distribution -> ok,
#    a clear 20% shift -> regression, too few repetitions -> not judged;
#  - counted runs record their instruction pinning, so a baseline whose
#    context names another CPU model still judges instruction counts (and
#    flags the slowdown); without the same pinning they are "not judged";
#  - fewer frees for the same allocations is a regression (unfreed), never
#    an improvement; a cell on one side only is "not compared" unless
#    --require-same-cells; nothing judged exits 3; the output shows changes
#    only unless --verbose; every row records its decorator;
#  - bad input exits 2 with one line (also a decorated baseline and no cell
#    in common); Google Benchmark's own compare.py reads heaplab's JSON
#    unchanged; the github-action-benchmark export is valid.
bench=$1
. "$(dirname "$0")/lib.sh"
run() { "$bench" --quick --instructions --allocator=pool --workload=churn --param variant=mixed "$@" >/dev/null 2>&1; }

run --out="$tmp/a" || die "baseline run failed"
run --out="$tmp/b" || die "second run failed"
run --out="$tmp/slow" --decorate=slow || die "slow run failed"
run --out="$tmp/leak" --decorate=leak || die "leaky run failed"

"$bench" --compare "$tmp/a" "$tmp/b" --report="$tmp/aa.md" >"$tmp/aa.out" 2>&1
rc=$?
[[ $rc -eq 0 ]] || { cat "$tmp/aa.out"; die "A/A comparison exited $rc"; }
grep -q REGRESSION "$tmp/aa.out" && die "A/A comparison flagged a regression"
grep -q "^| cell | metric" "$tmp/aa.md" || die "no markdown report"
# Changes only by default: an A/A comparison shows no per-check line, and
# its summary counts the checks it judged.
grep -q "/instructions  *checksum" "$tmp/aa.out" && die "default output shows unchanged checks"
grep -qE "^[0-9]+ checks: [1-9][0-9]* judged \(0 regression" "$tmp/aa.out" ||
  { cat "$tmp/aa.out"; die "A/A summary does not count judged checks"; }
"$bench" --compare --verbose "$tmp/a" "$tmp/b" >"$tmp/aav.out" 2>&1
grep -qE "instructions  *[0-9]+  *[0-9]+  *0%  ok" "$tmp/aav.out" ||
  { cat "$tmp/aav.out"; die "--verbose did not show the judged instruction count"; }

# The run records what it ran under: the instruction pinning in force in the
# counted process, and the decorator on every row.
python3 - "$tmp" <<'PY' || fail=1
import glob, json, sys
d = sys.argv[1]
ok = True
def doc(run):
    return json.load(open(glob.glob("%s/%s/*.json" % (d, run))[0]))
pin = doc("a")["context"].get("instruction_pinning") or {}
if not pin.get("scheme") or "-AVX2" not in pin.get("glibc_tunables", ""):
    print("FAIL: counted run records no instruction pinning: %s" % pin); ok = False
for run, want in (("a", "none"), ("slow", "slow"), ("leak", "leak")):
    got = {r.get("decorator") for r in doc(run)["benchmarks"]}
    if got != {want}:
        print("FAIL: %s rows record decorator %s, expected %s" % (run, got, want)); ok = False
sys.exit(0 if ok else 1)
PY

"$bench" --compare "$tmp/a" "$tmp/slow" >"$tmp/slow.out" 2>&1
rc=$?
[[ $rc -eq 1 ]] || die "slowed allocator: exit $rc, expected 1"
grep -E "instructions .*REGRESSION" "$tmp/slow.out" >/dev/null || { cat "$tmp/slow.out"; die "slowdown not flagged on instructions"; }

"$bench" --compare "$tmp/a" "$tmp/leak" >"$tmp/leak.out" 2>&1
rc=$?
[[ $rc -eq 1 ]] || die "leaky allocator: exit $rc, expected 1"
grep -E "leaked_bytes .*REGRESSION" "$tmp/leak.out" >/dev/null || { cat "$tmp/leak.out"; die "leak not flagged"; }
# Fewer frees for the same allocations is a leak, never an improvement.
grep -E " unfreed .*REGRESSION" "$tmp/leak.out" >/dev/null || { cat "$tmp/leak.out"; die "unfreed = allocs - frees not flagged"; }
grep -E " frees .*improved" "$tmp/leak.out" && die "fewer frees shown as an improvement"
committed=$(dirname "$0")/../results/baseline/thresholds.json
"$bench" --compare --thresholds="$committed" "$tmp/a" "$tmp/leak" >"$tmp/leak2.out" 2>&1
[[ $? -eq 1 ]] && grep -E " unfreed .*REGRESSION" "$tmp/leak2.out" >/dev/null &&
  ! grep -E " frees .*improved" "$tmp/leak2.out" ||
  { cat "$tmp/leak2.out"; die "the committed thresholds do not judge frees as unfreed"; }

# A baseline recorded on another CPU model: the counts carry because both
# runs carry the same instruction pinning, so the slowdown is still caught.
# Without the pinning on one side they are "not judged", and say why.
python3 - "$tmp" <<'PY'
import glob, json, os, sys
d = sys.argv[1]
for name, keep_pinning in (("intel", True), ("intel_unpinned", False)):
    os.makedirs("%s/%s" % (d, name))
    for f in glob.glob("%s/a/*.json" % d):
        doc = json.load(open(f))
        doc["context"]["cpu_model"] = "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz"
        if not keep_pinning:
            doc["context"].pop("instruction_pinning", None)
        json.dump(doc, open("%s/%s/%s" % (d, name, os.path.basename(f)), "w"))
PY
"$bench" --compare "$tmp/intel" "$tmp/slow" >"$tmp/xcpu.out" 2>&1
rc=$?
[[ $rc -eq 1 ]] || { cat "$tmp/xcpu.out"; die "baseline from another CPU vs slow run: exit $rc, expected 1"; }
grep -E "instructions .*REGRESSION" "$tmp/xcpu.out" >/dev/null || die "slowdown not flagged across CPU models"
grep -q "environments differ: cpu_model" "$tmp/xcpu.out" || die "no warning that the CPU models differ"
"$bench" --compare "$tmp/intel_unpinned" "$tmp/slow" >"$tmp/xcpu2.out" 2>&1
rc=$?
[[ $rc -eq 0 ]] || { cat "$tmp/xcpu2.out"; die "unpinned baseline from another CPU: exit $rc, expected 0"; }
grep -E "instructions .*not judged: instructions: CPU models differ" "$tmp/xcpu2.out" >/dev/null ||
  { cat "$tmp/xcpu2.out"; die "unpinned counts from another CPU were judged"; }
grep -qE "checks: [0-9]+ judged .*, 1 not judged \(1 instructions: CPU models differ" "$tmp/xcpu2.out" ||
  { cat "$tmp/xcpu2.out"; die "summary does not count the not-judged check with its reason"; }

# Cells on one side only: "not compared", a regression only when asked.
"$bench" --quick --instructions --allocator=pool --workload=churn --param variant=fixed64 \
  --out="$tmp/other" >/dev/null 2>&1 || die "fixed64 run failed"
mkdir "$tmp/two" && cp "$tmp"/a/*.json "$tmp"/other/*.json "$tmp/two/"
"$bench" --compare "$tmp/two" "$tmp/a" >"$tmp/lone.out" 2>&1
rc=$?
[[ $rc -eq 0 ]] && grep -qE "fixed64.* cell .*not compared: not in the current run" "$tmp/lone.out" &&
  grep -q "1 cell(s) compared, 1 not compared" "$tmp/lone.out" ||
  { cat "$tmp/lone.out"; die "a cell missing from the current run: exit $rc, expected 0 and 'not compared'"; }
"$bench" --compare "$tmp/a" "$tmp/two" >"$tmp/lone2.out" 2>&1
[[ $? -eq 0 ]] || die "a new cell in the current run was a regression"
# Not-judged checks are counted under their reason: two cells, one reason.
python3 - "$tmp" <<'PY'
import glob, json, os, sys
d = sys.argv[1]
os.makedirs("%s/two_unpinned" % d)
for f in glob.glob("%s/two/*.json" % d):
    doc = json.load(open(f))
    doc["context"]["cpu_model"] = "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz"
    doc["context"].pop("instruction_pinning", None)
    json.dump(doc, open("%s/two_unpinned/%s" % (d, os.path.basename(f)), "w"))
PY
"$bench" --compare "$tmp/two_unpinned" "$tmp/two" >"$tmp/group.out" 2>&1
grep -qE "checks: [0-9]+ judged .*, 2 not judged \(2 instructions: CPU models differ" "$tmp/group.out" ||
  { cat "$tmp/group.out"; die "two not-judged checks with one reason are not grouped"; }
"$bench" --compare --require-same-cells "$tmp/two" "$tmp/a" >"$tmp/lone3.out" 2>&1
rc=$?
[[ $rc -eq 1 ]] && grep -qE "fixed64.* cell .*REGRESSION" "$tmp/lone3.out" ||
  { cat "$tmp/lone3.out"; die "--require-same-cells: exit $rc, expected 1"; }

# Timing verdicts on synthetic repetitions (deterministic: a fixed seed).
python3 - "$tmp" <<'PY'
import json, random, sys
d = sys.argv[1]
rng = random.Random(7)
def doc(times):
    rows = [{"name": "syn/cell", "run_name": "syn/cell", "run_type": "iteration",
             "repetitions": len(times), "repetition_index": i, "iterations": 1000,
             "real_time": t, "cpu_time": t, "time_unit": "ns", "checksum": "00"}
            for i, t in enumerate(times)]
    return {"context": {}, "benchmarks": rows}
def write(name, times):
    json.dump(doc(times), open("%s/%s.json" % (d, name), "w"))
write("t_base", [rng.gauss(100, 3) for _ in range(9)])
write("t_same", [rng.gauss(100, 3) for _ in range(9)])
write("t_slow", [rng.gauss(120, 3) for _ in range(9)])
write("t_few", [rng.gauss(120, 3) for _ in range(5)])
for name in ("t_base", "t_few"):
    doc = json.load(open("%s/%s.json" % (d, name)))
    for row in doc["benchmarks"]:
        del row["checksum"]
    json.dump(doc, open("%s/%s_nosum.json" % (d, name), "w"))
PY
"$bench" --compare "$tmp/t_base.json" "$tmp/t_same.json" >"$tmp/t1" 2>&1 || die "same distribution flagged: $(grep cpu_time "$tmp/t1")"
"$bench" --compare "$tmp/t_base.json" "$tmp/t_slow.json" >"$tmp/t2" 2>&1
[[ $? -eq 1 ]] && grep -q "cpu_time/op.*REGRESSION" "$tmp/t2" || die "20% slower not flagged: $(cat "$tmp/t2")"
"$bench" --compare "$tmp/t_base.json" "$tmp/t_few.json" >"$tmp/t3" 2>&1
[[ $? -eq 0 ]] && grep -q "not judged" "$tmp/t3" || die "5 repetitions were judged: $(cat "$tmp/t3")"
# Nothing judged at all (timing only, too few repetitions): not a pass.
"$bench" --compare "$tmp/t_base_nosum.json" "$tmp/t_few_nosum.json" >"$tmp/t4" 2>&1
rc=$?
[[ $rc -eq 3 ]] && grep -q "0 judged" "$tmp/t4" && grep -q "1 timing: too few repetitions" "$tmp/t4" &&
  grep -q "nothing could be judged" "$tmp/t4" || die "nothing judged: exit $rc, expected 3: $(cat "$tmp/t4")"

# Bad input: one line, exit 2.
echo '{"benchmarks": [' >"$tmp/broken.json"
echo '{"context": {}}' >"$tmp/nobench.json"
echo '{"timing": {"alpha": "x"}}' >"$tmp/badthr.json"
echo '{"deterministic": {"frees": {"direction": "sideways"}}}' >"$tmp/baddir.json"
while IFS='|' read -r args phrase; do
  # shellcheck disable=SC2086
  "$bench" $args >"$tmp/stdout" 2>"$tmp/stderr"
  check_refusal "$args" $? "$phrase"
done <<TABLE
--compare $tmp/a|--compare needs two paths
--compare $tmp/a $tmp/nope|cannot read $tmp/nope
--compare $tmp/a $tmp/broken.json|is not valid JSON
--compare $tmp/a $tmp/nobench.json|has no "benchmarks" array
--compare --thresholds=$tmp/badthr.json $tmp/a $tmp/b|"alpha" must be a number
--compare --thresholds=$tmp/nope.json $tmp/a $tmp/b|cannot read
--compare --thresholds=$tmp/baddir.json $tmp/a $tmp/b|direction must be one of lower_is_better
--compare $tmp/a $tmp/b --report=/proc/nope/x.md|--report: cannot write
--export-action=$tmp/x.json|needs one path
--compare $tmp/slow $tmp/a|a decorated run cannot be a baseline
--compare $tmp/other $tmp/a|have no cell in common
TABLE

# Google Benchmark's compare.py reads heaplab's JSON unchanged.
"$bench" --quick --allocator=pool --workload=churn --param variant=fixed64 --repetitions=3 \
  --out="$tmp/g1" >/dev/null 2>&1 || die "timing run failed"
cp -r "$tmp/g1" "$tmp/g2"
if [[ -f /usr/share/benchmark/compare.py ]]; then
  /usr/bin/python3 /usr/share/benchmark/compare.py benchmarks "$tmp"/g1/*.json "$tmp"/g2/*.json \
    >"$tmp/gb.out" 2>&1 || { cat "$tmp/gb.out"; die "compare.py failed on heaplab JSON"; }
  grep -q "churn/fixed64/pool/manual" "$tmp/gb.out" || die "compare.py did not list the cell"
else
  die "Google Benchmark's compare.py is missing (Debian package libbenchmark-tools)"
fi

# A failed cell's row carries the cell's short name (it never reached Google
# Benchmark's run_name): it is matched to its cell on the other side, a
# regression in the current run and not compared in the baseline, never a
# "missing" cell plus a "new" one.
quick=(--quick --allocator=pool --workload=churn --param variant=mixed)
"$bench" "${quick[@]}" --out="$tmp/ran" >/dev/null 2>&1 || die "quick run failed"
"$bench" "${quick[@]}" --fail-alloc=1 --out="$tmp/failed" >/dev/null 2>&1
"$bench" --compare "$tmp/ran" "$tmp/failed" >"$tmp/fail.out" 2>&1
rc=$?
if [[ $rc -ne 1 ]] || ! grep -Eq "cell +ran +failed +REGRESSION" "$tmp/fail.out" ||
   grep -q "not in the" "$tmp/fail.out"; then
  cat "$tmp/fail.out"; die "a failed cell: exit $rc, expected 1 with the cell matched and failed"
fi
"$bench" --compare "$tmp/failed" "$tmp/ran" >"$tmp/failbase.out" 2>&1
rc=$?
if [[ $rc -ne 3 ]] || ! grep -q "failed in the baseline" "$tmp/failbase.out"; then
  cat "$tmp/failbase.out"; die "a cell failed in the baseline: exit $rc, expected 3 (not compared)"
fi

# Runs that did different work (here another --param) are not compared, and
# with nothing else to judge the comparison exits 3.
"$bench" "${quick[@]}" --param live=500 --out="$tmp/live500" >/dev/null 2>&1 || die "live=500 run failed"
"$bench" --compare "$tmp/ran" "$tmp/live500" >"$tmp/params.out" 2>&1
rc=$?
if [[ $rc -ne 3 ]] || ! grep -q "not compared: the runs did different work: params" "$tmp/params.out"; then
  cat "$tmp/params.out"; die "different parameters: exit $rc, expected 3 (not compared)"
fi

# A repetition that failed in a process of its own (--shuffle, or Boehm's
# one process per repetition) leaves a short-named error row beside the
# finished repetitions: the cell failed, whatever the others measured.
python3 - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
full = "syn/v/pool/manual/iterations:1000/real_time"
def row(i):
    return {"name": full, "run_name": full, "run_type": "iteration", "repetitions": 3,
            "repetition_index": i, "iterations": 1000, "real_time": 10.0, "cpu_time": 10.0,
            "time_unit": "ns", "checksum": "00", "params": "ops=1000", "seed": 1}
json.dump({"context": {}, "benchmarks": [row(i) for i in range(3)]}, open(d + "/r_base.json", "w"))
bad = {"name": "syn/v/pool/manual", "run_name": "syn/v/pool/manual", "run_type": "iteration",
       "repetition_index": 2, "error_occurred": True, "error_message": "crashed: signal 11"}
json.dump({"context": {}, "benchmarks": [row(0), row(1), bad]}, open(d + "/r_fail.json", "w"))
PY
"$bench" --compare "$tmp/r_base.json" "$tmp/r_fail.json" >"$tmp/rfail.out" 2>&1
rc=$?
if [[ $rc -ne 1 ]] || ! grep -q "REGRESSION: crashed: signal 11" "$tmp/rfail.out"; then
  cat "$tmp/rfail.out"; die "a failed repetition beside finished ones: exit $rc, expected 1"
fi

# The github-action-benchmark export.
"$bench" --export-action="$tmp/gab.json" "$tmp/g1" >/dev/null || die "export failed"
python3 - "$tmp/gab.json" <<'PY' || fail=1
import json, sys
e = json.load(open(sys.argv[1]))
ok = isinstance(e, list) and e and all({"name", "unit", "value"} <= set(x) for x in e)
ok = ok and any(x["unit"] == "ns/op" for x in e)
print("export ok" if ok else "FAIL: export malformed: %s" % e)
sys.exit(0 if ok else 1)
PY
[[ $fail -eq 0 ]] && echo "regress_test: all checks passed"
exit $fail
