#!/usr/bin/env bash
# fresh_heap_test.sh BENCH - every timed repetition of a collector with its
# own heap (tracing: Boehm's, one per process, never re-initialised) starts
# from a fresh heap, and its row's collections and pauses are its own run's.
#
# No timing assertions.  trees/gcbench under Boehm collects a fixed number
# of times from a fresh heap (its allocation sequence is seeded, and the
# few objects conservative stack scanning may keep do not move a
# collection), so the identity is exact there:
#  - each repetition's gc_collections_gen0 equals the memory pass's
#    (memory_pass_gc_collections_gen0, also a fresh heap): a repetition that
#    inherited the heap the memory pass or an earlier repetition grew
#    collects about half as often;
#  - each repetition's gc_pauses equals its own gc_collections_gen0: every
#    pause on the row is one of the row's collections, none from another
#    pass.
# --allocator=pool: tracing ignores the allocator, and the sanitizer build
# (where ASan owns malloc) refuses glibc cells.
bench=$1
. "$(dirname "$0")/lib.sh"
"$bench" --quick --out="$tmp/reps" --workload=trees --param variant=gcbench --collector=tracing --allocator=pool \
  --repetitions=3 >"$tmp/reps.log" 2>&1 || { cat "$tmp/reps.log"; die "bench exited non-zero"; }
python3 - "$tmp" <<'PY' || fail=1
import glob, json, sys
rows = json.load(open(glob.glob("%s/reps/*.json" % sys.argv[1])[0]))["benchmarks"]
reps = [r for r in rows if r.get("run_type") == "iteration"]
bad = []
if len(reps) != 3: bad.append("%d repetition rows, expected 3" % len(reps))
for r in reps:
    i, own, mem = r.get("repetition_index"), r.get("gc_collections_gen0"), r.get("memory_pass_gc_collections_gen0")
    if own is None or mem is None: bad.append("repetition %s: collections missing" % i); continue
    if own != mem: bad.append("repetition %s: %s collections, a fresh heap's run made %s" % (i, own, mem))
    if r.get("gc_pauses") != own: bad.append("repetition %s: %s pauses for %s collections of its own run" % (i, r.get("gc_pauses"), own))
if sorted(r.get("repetition_index") for r in reps) != [0, 1, 2]: bad.append("repetition indices %s" % [r.get("repetition_index") for r in reps])
if not any(r.get("aggregate_name") == "mean" for r in rows): bad.append("no mean aggregate")
for b in bad: print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
[[ $fail == 0 ]] && echo "fresh_heap_test: all checks passed"
exit $fail
