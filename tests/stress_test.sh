#!/usr/bin/env bash
# stress_test.sh BENCH - `bench --stress` finds nothing wrong with any
# allocator or collector, and does find corruption when it is there.
#
#  1. every variant (alloc, graph, threads) under pool, arena, glibc,
#     jemalloc, mimalloc, tcmalloc and every collector: every cell ok, 0
#     errors, and one checksum per variant whatever the strategy;
#  2. the same on small blocks and few slots under a second seed (pool's size
#     classes and its 512-byte boundary, realloc across it);
#  3. --decorate=corrupt under pool and glibc: exit 1, and every alloc and
#     threads cell fails naming its corrupted blocks;
#  4. the threads variant at --threads=1,2,4 under glibc, jemalloc, mimalloc
#     and tcmalloc: every cell ok, blocks really handed over, one checksum per
#     thread count whatever the allocator.
# Allocators this build lacks (sanitizer builds have no system allocators)
# are left out.  About 30 s.  Exit 0 when every check passes, else 1.
bench=$1
. "$(dirname "$0")/lib.sh"

"$bench" --list >"$tmp/list" 2>&1 || die "--list exited $?"
have() { grep -qE "^  $1 +available" "$tmp/list"; }
# The available allocators among $@, comma-separated.
available() {
  local out=() a
  for a in "$@"; do have "$a" && out+=("$a"); done
  local IFS=,
  echo "${out[*]}"
}
all_allocs=$(available pool arena glibc jemalloc mimalloc tcmalloc)
system_allocs=$(available glibc jemalloc mimalloc tcmalloc)
corrupt_allocs=$(available pool glibc)

# run LABEL EXPECTED_EXIT ARGS...: one bench run; its output in $tmp/LABEL.txt,
# its results in $tmp/LABEL/.
run() {
  local label=$1 want=$2; shift 2
  "$bench" --stress --quick --timeout=120 --sample-hz=10 --out="$tmp/$label" "$@" >"$tmp/$label.txt" 2>&1
  local rc=$?
  if [[ $rc -ne $want ]]; then
    die "$label: exit $rc, expected $want"; tail -20 "$tmp/$label.txt"
    return 1
  fi
  if grep -q "crashed\|timed out" "$tmp/$label.txt"; then
    die "$label: a cell crashed or hung"
    return 1
  fi
  return 0
}

# check LABEL VARIANTS ALLOCATORS COLLECTORS [THREADS]: the results of run
# LABEL hold an ok row with 0 errors for every variant x allocator x
# collector x thread count asked for (tracing once, under any allocator:
# it brings its own heap), and one checksum per variant and thread count.
check() {
  python3 - "$1" "$2" "$3" "$4" "${5:-1}" "$tmp/$1"/*.json <<'PY'
import collections, json, sys
label, variants, allocs, collectors, threads, path = sys.argv[1:7]
rows = json.load(open(path))["benchmarks"]
bad = []
ok = collections.defaultdict(list)
sums = collections.defaultdict(set)
for r in rows:
    params = dict(kv.split("=") for kv in r.get("params", "").split(",") if kv)
    t = params.get("threads", "1")
    if r.get("error_occurred"):
        bad.append("%s: %s" % (r["name"], r.get("error_message", "failed")))
        continue
    if r.get("wl_errors", -1) != 0:
        bad.append("%s: wl_errors = %s" % (r["name"], r.get("wl_errors")))
        continue
    if r["variant"] == "threads" and r.get("wl_received") != r.get("wl_ops_handoff"):
        bad.append("%s: %s blocks handed over, %s received" % (r["name"], r.get("wl_ops_handoff"),
                                                               r.get("wl_received")))
    if r.get("wl_checked", 0) <= 0:
        bad.append("%s: nothing checked" % r["name"])
    ok[(r["variant"], r["allocator"], r["collector"], t)].append(r)
    sums[(r["variant"], t)].add(r["checksum"])
for v in variants.split(","):
    for c in collectors.split(","):
        for t in threads.split(","):
            if c == "tracing":
                if not any(k[0] == v and k[2] == c and k[3] == t for k in ok):
                    bad.append("no ok row for %s/%s threads=%s" % (v, c, t))
                continue
            for a in allocs.split(","):
                if c != "manual" and t != "1":
                    continue  # collectors are single-threaded: the harness skips these
                if not ok.get((v, a, c, t)):
                    bad.append("no ok row for %s/%s/%s threads=%s" % (v, a, c, t))
for (v, t), s in sorted(sums.items()):
    if len(s) != 1:
        bad.append("%s threads=%s: %d different checksums %s" % (v, t, len(s), sorted(s)))
for b in bad:
    print("FAIL: %s: %s" % (label, b))
checked = sum(r.get("wl_checked", 0) for rs in ok.values() for r in rs)
print("%s %s: %d ok cells, %d blocks/objects checked, %d checksum(s)" % (
    "FAIL" if bad else "ok  ", label, sum(len(x) for x in ok.values()), checked, len(sums)))
sys.exit(1 if bad else 0)
PY
}

collectors=manual,refcount,cycle,tracing,marksweep
variants=alloc,graph,threads

# 1. Everything, as `bench --stress` runs it.
run all 0 && { check all "$variants" "$all_allocs" "$collectors" || fail=1; }

# 2. Small blocks, few slots, another seed.
small=$(available pool arena)
if run small 0 --allocator="$small" --seed=7 --param slots=64 --param max_size=600; then
  check small "$variants" "$small" "$collectors" || fail=1
fi

# 3. Corruption must be found: every alloc and threads cell fails naming a
#    corrupted block (graph cells usually do too, but an object hit may
#    become unreachable before it is checked, and tracing's heap is Boehm's).
if run corrupt 1 --decorate=corrupt --allocator="$corrupt_allocs"; then
  pattern='[0-9]+ corrupted blocks? found \(first: (thread [0-9]+ )?slot [0-9]+, byte [0-9]+: '
  pattern+='expected 0x[0-9a-f]{2} got 0x[0-9a-f]{2}\)'
  grep -E "^stress +(alloc|threads) " "$tmp/corrupt.txt" | grep -v skipped >"$tmp/corrupt.cells"
  cells=$(wc -l <"$tmp/corrupt.cells")
  caught=$(grep -cE "FAILED.*$pattern" "$tmp/corrupt.cells")
  if [[ $cells -eq 0 || $caught -ne $cells ]]; then
    die "corrupt: $caught of $cells alloc/threads cells reported corrupted blocks"
    cat "$tmp/corrupt.cells"
  else
    echo "ok   corrupt: $caught alloc/threads cells failed, e.g." \
      "$(grep -oE "$pattern" "$tmp/corrupt.cells" | head -1)"
  fi
fi

# 4. Blocks freed by other threads.
if [[ -n $system_allocs ]]; then
  if run threads 0 --param variant=threads --threads=1,2,4 --allocator="$system_allocs" \
      --collector=manual; then
    check threads threads "$system_allocs" manual 1,2,4 || fail=1
  fi
else
  echo "skip threads: no system allocator in this build"
fi

[[ $fail -eq 0 ]] && echo "stress_test: all checks passed"
exit $fail
