#!/usr/bin/env bash
# reference_test.sh TOP - the plain C reference programs behind `make perf`
# do the work heaplab does, so that the ratios perf.py reports compare like
# with like (docs/perf.md).
#
# It runs `scripts/perf.py --check-work` at small sizes (one round, nothing
# timed is judged, nothing written): every reference program runs beside
# heaplab's cells and perf.py's own proofs must hold:
#   - ref-binarytrees, ref-binarytrees-type, -header and -layout under each
#     system allocator,
#     and ref-binarytrees-gc and -gc-layout, print the Benchmarks Game's checks, which must
#     equal heaplab's trees/binarytrees check figures;
#   - ref-churn (fixed64, under each system allocator) and ref-churn-floor
#     (mixed and fixed64, on reference/floor.h) fold the same checksum as
#     heaplab's churn cells; the floor program must say its own allocator
#     served it, and a preloaded one must be the library that served malloc.
# A reference program that does other work than heaplab (or an allocator
# that hands out one block twice, which breaks a cookie) makes perf.py exit
# 1 with the reason.
source "$(dirname "$0")/lib.sh"
top=$1
out=$("$top/scripts/perf.py" --check-work --depth=8 --churn-ops=200000 --out="$tmp/perf" 2>&1)
rc=$?
if [[ $rc -ne 0 ]]; then
  die "perf.py --check-work exited $rc: $(echo "$out" | tail -3)"
elif ! grep -q "^same work:" <<<"$out"; then
  die "perf.py --check-work did not report the same-work proofs: $(echo "$out" | tail -3)"
elif [[ -e $tmp/perf ]]; then
  die "perf.py --check-work wrote results to $tmp/perf"
else
  echo "ok   $(grep '^same work:' <<<"$out")"
fi
exit $fail
