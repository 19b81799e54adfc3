#!/usr/bin/env bash
# memcheck_test.sh BENCH - a short matrix of cells, each run under Valgrind's
# memcheck: no invalid reads or writes, no uses of uninitialised values, no
# definite leaks.  Boehm GC (tracing) stays out: its conservative scan reads
# memory memcheck rightly calls uninitialised.
set -u
bench=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command -v valgrind >/dev/null || { echo "valgrind missing (Debian package valgrind)"; exit 1; }
fail=0
cells=(
  "churn mixed manual pool"
  "churn fixed64 manual arena"
  "cycles pairs cycle pool"
  "cycles tree marksweep pool"
  "cycles dlist refcount glibc"
  "cache weak refcount pool"
  "cache lru cycle pool"
  "genlist list refcount pool"
  "ring alloc manual pool"
  "slots dict cycle pool"
  "trees binarytrees refcount pool"
)
for cell in "${cells[@]}"; do
  read -r w v c a <<<"$cell"
  valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite --quiet \
    "$bench" --run-cell --quick --workload="$w" --param variant="$v" --collector="$c" \
    --allocator="$a" --cell-out="$tmp/cell.json" --sample-hz=10 >/dev/null 2>"$tmp/err"
  rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "FAIL: $w/$v/$a/$c: exit $rc"; tail -30 "$tmp/err"; fail=1
  else
    echo "ok   $w/$v/$a/$c: memcheck clean"
  fi
done
exit $fail
