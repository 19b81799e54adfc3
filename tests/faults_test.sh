#!/usr/bin/env bash
# faults_test.sh BENCH - every workload under every collector either
# completes or stops with a clear out-of-memory message and a non-zero exit
# when allocations fail: never a crash, never a corrupt results file.
#
# Faults: the Nth allocation failing (--fail-alloc, at several points from
# the very first to deep into the run), a byte limit (--mem-limit), and the
# process's address space (--rlimit-as).
set -u
bench=$1
sanitized=${2:-}   # "sanitized": the build's sanitizer owns malloc and the address space
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
die() { echo "FAIL: $*"; fail=1; }

# One matrix under one fault; every cell must end "ok" or in an
# out-of-memory message, and the results must parse.
check() {
  local label=$1; shift
  local out="$tmp/$label"
  "$bench" --quick --workload=all --collector=all --sample-hz=10 --timeout=120 \
    --out="$out" "$@" >"$out.txt" 2>&1
  local rc=$?
  [[ $rc -eq 0 || $rc -eq 1 ]] || die "$label: exit $rc"
  if grep -E "FAILED" "$out.txt" | grep -v "out of memory" >"$out.bad"; then
    die "$label: a cell failed without an out-of-memory message:"; cat "$out.bad"
  fi
  grep -q "crashed\|timed out" "$out.txt" && die "$label: a cell crashed or hung"
  ls -a "$out" | grep -q '\.tmp\.' && die "$label: a temporary file was left behind"
  python3 -c 'import json,sys; [json.load(open(f)) for f in sys.argv[1:]]' "$out"/*.json \
    || die "$label: results do not parse"
  echo "ok   $label: $(grep -c FAILED "$out.txt") cell(s) out of memory, exit $rc"
}

for n in 1 2 7 100 3000 40000; do
  check "fail-$n-pool" --allocator=pool --fail-alloc=$n
done
check "fail-25-arena" --allocator=arena --fail-alloc=25
[[ -z $sanitized ]] && check "fail-900-glibc" --allocator=glibc --fail-alloc=900
check "limit-256K-pool" --allocator=pool --mem-limit=256K
[[ -z $sanitized ]] && check "limit-1M-glibc" --allocator=glibc --mem-limit=1M

# A fault that hits must be reported as out of memory, with exit 1.
"$bench" --quick --allocator=pool --workload=churn --param variant=fixed64 --fail-alloc=10 \
  --out="$tmp/one" >"$tmp/one.txt" 2>&1
[[ $? -eq 1 ]] && grep -q "out of memory" "$tmp/one.txt" || die "--fail-alloc=10 not reported: $(cat "$tmp/one.txt")"

# The address space itself: the region allocator runs out of mappings.
if [[ -z $sanitized ]]; then
  "$bench" --allocator=arena --workload=churn --param variant=fixed64 --param ops=20000000 \
    --rlimit-as=300M --out="$tmp/rlimit" >"$tmp/rlimit.txt" 2>&1
  rc=$?
  [[ $rc -eq 1 ]] && grep -q "out of memory" "$tmp/rlimit.txt" \
    || die "RLIMIT_AS not reported (exit $rc): $(cat "$tmp/rlimit.txt")"
fi

[[ $fail -eq 0 ]] && echo "faults_test: all checks passed"
exit $fail
