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
#  - bad input exits 2 with one line; Google Benchmark's own compare.py reads
#    heaplab's JSON unchanged; the github-action-benchmark export is valid.
set -u
bench=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
die() { echo "FAIL: $*"; fail=1; }
run() { "$bench" --quick --instructions --allocator=pool --workload=churn --param variant=mixed "$@" >/dev/null 2>&1; }

run --out="$tmp/a" || die "baseline run failed"
run --out="$tmp/b" || die "second run failed"
run --out="$tmp/slow" --decorate=slow || die "slow run failed"
run --out="$tmp/leak" --decorate=leak || die "leaky run failed"

"$bench" --compare "$tmp/a" "$tmp/b" --report="$tmp/aa.md" >"$tmp/aa.out" 2>&1
rc=$?
[[ $rc -eq 0 ]] || { cat "$tmp/aa.out"; die "A/A comparison exited $rc"; }
grep -q REGRESSION "$tmp/aa.out" && die "A/A comparison flagged a regression"
grep -q "instructions" "$tmp/aa.out" || die "A/A comparison did not compare instruction counts"
grep -q "^| cell | metric" "$tmp/aa.md" || die "no markdown report"

"$bench" --compare "$tmp/a" "$tmp/slow" >"$tmp/slow.out" 2>&1
rc=$?
[[ $rc -eq 1 ]] || die "slowed allocator: exit $rc, expected 1"
grep -E "instructions .*REGRESSION" "$tmp/slow.out" >/dev/null || { cat "$tmp/slow.out"; die "slowdown not flagged on instructions"; }

"$bench" --compare "$tmp/a" "$tmp/leak" >"$tmp/leak.out" 2>&1
rc=$?
[[ $rc -eq 1 ]] || die "leaky allocator: exit $rc, expected 1"
grep -E "leaked_bytes .*REGRESSION" "$tmp/leak.out" >/dev/null || { cat "$tmp/leak.out"; die "leak not flagged"; }

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
PY
"$bench" --compare "$tmp/t_base.json" "$tmp/t_same.json" >"$tmp/t1" 2>&1 || die "same distribution flagged: $(grep cpu_time "$tmp/t1")"
"$bench" --compare "$tmp/t_base.json" "$tmp/t_slow.json" >"$tmp/t2" 2>&1
[[ $? -eq 1 ]] && grep -q "cpu_time/op.*REGRESSION" "$tmp/t2" || die "20% slower not flagged: $(cat "$tmp/t2")"
"$bench" --compare "$tmp/t_base.json" "$tmp/t_few.json" >"$tmp/t3" 2>&1
[[ $? -eq 0 ]] && grep -q "not judged" "$tmp/t3" || die "5 repetitions were judged: $(cat "$tmp/t3")"

# Bad input: one line, exit 2.
echo '{"benchmarks": [' >"$tmp/broken.json"
echo '{"context": {}}' >"$tmp/nobench.json"
echo '{"timing": {"alpha": "x"}}' >"$tmp/badthr.json"
while IFS='|' read -r args phrase; do
  # shellcheck disable=SC2086
  "$bench" $args >"$tmp/o" 2>"$tmp/e"
  rc=$?
  if [[ $rc -ne 2 || $(wc -l <"$tmp/e") -ne 1 ]] || ! grep -qF -- "$phrase" "$tmp/e"; then
    die "[$args] exit $rc, stderr: $(cat "$tmp/e")"
  fi
done <<TABLE
--compare $tmp/a|--compare needs two paths
--compare $tmp/a $tmp/nope|cannot read $tmp/nope
--compare $tmp/a $tmp/broken.json|is not valid JSON
--compare $tmp/a $tmp/nobench.json|has no "benchmarks" array
--compare --thresholds=$tmp/badthr.json $tmp/a $tmp/b|"alpha" must be a number
--compare --thresholds=$tmp/nope.json $tmp/a $tmp/b|cannot read
--compare $tmp/a $tmp/b --report=/proc/nope/x.md|--report: cannot write
--export-action=$tmp/x.json|needs one path
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
