#!/usr/bin/env bash
# threads_test.sh BENCH - a threaded workload is measured over all its threads.
#
# Instruction counts are deterministic, so this is a correctness check, not a
# timing one: larson does the same operations at 1 and at 2 threads (split
# between them), so its instructions per operation must agree within 10%
# (the crew's hand-offs cost a few per cent).  A count that saw the calling
# thread alone would halve at 2 threads.  (Process CPU time is checked by
# test_shim.)
bench=$1
. "$(dirname "$0")/lib.sh"

for t in 1 2; do
  "$bench" --quick --instructions --workload=larson --allocator=glibc --threads=$t \
    --out="$tmp/t$t" >"$tmp/run$t" 2>&1 || { cat "$tmp/run$t"; die "threads=$t exited non-zero"; }
done
python3 - "$tmp"/t1/*.json "$tmp"/t2/*.json <<'PY' || fail=1
import json, sys
per_op = []
for path in sys.argv[1:]:
    rows = json.load(open(path))["benchmarks"]
    assert len(rows) == 1, "expected one instruction row in %s" % path
    r = rows[0]
    assert r.get("instructions_per_op", 0) > 0, "no instructions_per_op in %s" % r["name"]
    per_op.append((r["threads"], r["instructions_per_op"]))
    # Cells of one sweep never share a name, or --compare would pool them.
    assert "/threads:%d/" % r["threads"] in r["run_name"], \
        "run_name %s does not carry its thread count" % r["run_name"]
print("instructions per op by threads:", per_op)
(t1, one), (t2, two) = per_op
assert (t1, t2) == (1, 2), "thread counts %s" % [t1, t2]
assert abs(two - one) <= 0.10 * one, \
    "larson: %.1f instructions/op at 2 threads against %.1f at 1: not every thread was counted" \
    % (two, one)
PY
[[ $fail == 0 ]] && echo "threads_test: all checks passed"
exit $fail
