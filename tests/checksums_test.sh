#!/usr/bin/env bash
# checksums_test.sh BENCH [system] - every workload variant computes the
# checksum pinned for it in tests/checksums.txt.
#
# Why: a workload's checksum folds what it read back from memory, so a
# workload that silently does less (builds every second structure, folds
# only half of what it reads) still "passes" every test that only checks the
# checksum is equal across strategies.  Pinning the value at --quick sizes
# and seed 1 catches it.
#
# What is checked:
#  1. every variant of every registered workload (--workload=all runs each
#     variant as its own cell) has a pinned row, and every pinned row was run;
#  2. each variant's checksum equals its pin under pool and arena and under
#     every collector the workload supports (the checksum is the same under
#     every strategy by design: workload.h);
#  3. with `system`: also under every other registered allocator, and each workload with a threads
#     parameter at threads=2 (rows `NAME/VARIANT@threads=2`).
#
# Threads: no exemption is needed.  The threaded workloads' checksums are
# deterministic by design: larson, xmalloc and falseshare sum (mod 2^64)
# cookies keyed by the seed and the block, so the order in which threads
# finish cannot change the sum (nor can the thread count); stress folds each
# thread's own sequence in order, then the threads in thread order, so its
# alloc and threads variants depend on the thread count but not on timing.
#
# Regenerating (after a deliberate change to what a workload computes, or to
# pin a new workload):  tests/checksums_test.sh --update build/heaplab
# rewrites the rows of tests/checksums.txt (keeping its comment lines) from a
# pool run and a glibc threads=2 run.  Review the diff: only the workloads you
# changed may move.  The test itself never updates the table.
set -u
update=0
if [[ ${1:-} == --update ]]; then
  update=1; shift
fi
bench=$1
mode=${2:-}
((update)) && mode=system
here=$(cd "$(dirname "$0")" && pwd)
table=$here/checksums.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# run LABEL ARGS...: the checksum of each cell as "KEY checksum", where KEY is
# workload/variant, with "@threads=N" when SUFFIX_THREADS is set; exits on a
# failed cell (a failed cell has no checksum to judge).
run() {
  local label=$1; shift
  if ! "$bench" --quick --seed=1 --sample-hz=10 --out="$tmp/$label" "$@" >"$tmp/$label.out" 2>&1; then
    echo "FAIL [$label]: bench $* failed:"; tail -5 "$tmp/$label.out"; exit 1
  fi
  jq -r --arg t "${SUFFIX_THREADS:-}" '.benchmarks[] | select(.run_type == "iteration")
    | if .error_occurred then "ERROR \(.name): \(.error_message)"
      else "\(.workload)/\(.variant)\(if $t != "" then "@threads=\(.threads)" else "" end) \(.allocator)/\(.collector) \(.checksum)" end' \
    "$tmp/$label"/*.json >"$tmp/$label.rows"
  if grep -q '^ERROR' "$tmp/$label.rows"; then
    echo "FAIL [$label]: failed cells:"; grep '^ERROR' "$tmp/$label.rows"; exit 1
  fi
}

# Workloads that have a threads parameter, from --list.
threaded=$("$bench" --list | awk '
  /^workloads/ { in_w = 1; next }
  in_w && /^  [a-z]/ { w = $1 }
  in_w && /^               threads / { printf "%s%s", sep, w; sep = "," }')

if [[ $mode == system && -n $threaded ]]; then
  SUFFIX_THREADS=1 run threads --workload="$threaded" --threads=2 --allocator=glibc
fi

if ((update)); then
  run base --workload=all --allocator=pool
  {
    grep '^#' "$table" 2>/dev/null
    cat "$tmp/base.rows" "$tmp"/threads.rows 2>/dev/null | awk '{print $1, $3}' | sort -u
  } >"$tmp/new"
  if [[ $(awk '{print $1}' "$tmp/new" | grep -v '^#' | uniq -d) ]]; then
    echo "checksums differ between collectors or allocators; not updating:"
    awk '{print $1}' "$tmp/new" | grep -v '^#' | uniq -d
    exit 1
  fi
  cp "$tmp/new" "$table"
  echo "updated $table ($(grep -vc '^#' "$table") rows)"
  exit 0
fi

# Every strategy: with `system`, every registered allocator (--allocator=all;
# the system ones each in a cell of their own under LD_PRELOAD) under every
# collector each workload supports (--collector=all skips the others).
# Without it (sanitizer builds: the sanitizer owns malloc, so no allocator
# that replaces malloc can run) the in-process allocators, pool and arena.
allocs=pool,arena
[[ $mode == system ]] && allocs=all
run strategies --workload=all --allocator=$allocs --collector=all

grep -v '^#' "$table" | awk 'NF == 2' | sort >"$tmp/pinned"
cat "$tmp/strategies.rows" "$tmp"/threads.rows 2>/dev/null >"$tmp/all.rows"

# 1. Each variant run has a pin; each pin (of the kinds run here) was run.
awk '{print $1}' "$tmp/all.rows" | sort -u >"$tmp/run-keys"
awk '{print $1}' "$tmp/pinned" | sort -u >"$tmp/pin-keys"
if [[ $mode != system ]]; then # the threads=2 pins need glibc: not judged here
  grep -v '@threads=' "$tmp/pin-keys" >"$tmp/pin-keys.base"
  mv "$tmp/pin-keys.base" "$tmp/pin-keys"
fi
while read -r key; do
  echo "FAIL [$key]: no pinned checksum in tests/checksums.txt (pin it: tests/checksums_test.sh --update BENCH)"
  fail=1
done < <(comm -23 "$tmp/run-keys" "$tmp/pin-keys")
while read -r key; do
  echo "FAIL [$key]: pinned in tests/checksums.txt but not run: is it still registered?"
  fail=1
done < <(comm -13 "$tmp/run-keys" "$tmp/pin-keys")

# 2, 3. Every row equals its pin.
# (A row without a pin was reported above.)
awk 'NR == FNR { pin[$1] = $2; next }
     $1 in pin { checked++
                 if ($3 != pin[$1]) print "FAIL [" $1 " under " $2 "]: checksum " $3 ", pinned " pin[$1] }
     END { print checked > "'"$tmp/checked"'" }' "$tmp/pinned" "$tmp/all.rows" >"$tmp/mismatch"
cat "$tmp/mismatch"
[[ -s $tmp/mismatch ]] && fail=1
checked=$(cat "$tmp/checked")

if ((fail == 0)); then
  echo "ok: $checked cells, $(wc -l <"$tmp/run-keys") pinned variants, every checksum as pinned"
fi
exit $fail
