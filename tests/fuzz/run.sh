#!/bin/sh
# run.sh - run every fuzz target for a while, each on a scratch copy of its
# seed corpus; exit non-zero if any of them crashed, leaked, hung or failed
# a check.  docs/fuzzing.md says how to build the targets.
#
# usage: tests/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
#   BUILD_DIR  a build configured with -DHEAPLAB_FUZZ=ON (targets in
#              BUILD_DIR/tests/fuzz/)
#   SECONDS    fuzzing time per target (libFuzzer -max_total_time)
#   TARGET     pool, collectors, cli (default: all three)
#
# Environment:
#   FUZZ_OUT        where logs, reproducers and the grown corpora go
#                   (default BUILD_DIR/fuzz-out; emptied first)
#   FUZZ_FLAGS      extra libFuzzer flags, e.g. "-jobs=4 -workers=4"
#   HEAPLAB_FUZZ_*  passed through to the targets (docs/fuzzing.md)
#
# The checked-in corpora are never written: what a run finds stays under
# FUZZ_OUT.  A failing input is FUZZ_OUT/<target>/crash-* (or leak-,
# timeout-, oom-); replay it with BUILD_DIR/tests/fuzz/fuzz_<target> FILE.
# Exit status: 0 all clean, 1 some target failed, 2 bad usage.
set -u

usage() {
    echo "usage: $0 BUILD_DIR SECONDS [pool|collectors|cli ...]" >&2
    exit 2
}

[ $# -ge 2 ] || usage
build=$1
seconds=$2
shift 2
case $seconds in '' | *[!0-9]*) usage ;; esac
targets=${*:-pool collectors cli}
here=$(cd "$(dirname "$0")" && pwd)
out=${FUZZ_OUT:-$build/fuzz-out}

rm -rf "$out"
mkdir -p "$out" || exit 2
# Leaks fail a run as crashes do; stop at the first report.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

failed=""
for t in $targets; do
    bin=$build/tests/fuzz/fuzz_$t
    if [ ! -x "$bin" ]; then
        echo "run.sh: $bin not built (configure with -DHEAPLAB_FUZZ=ON)" >&2
        exit 2
    fi
    dir=$out/$t
    mkdir -p "$dir/corpus"
    cp "$here/corpus/$t/"* "$dir/corpus/"
    dict=""
    [ -f "$here/fuzz_$t.dict" ] && dict="-dict=$here/fuzz_$t.dict"
    # -timeout: one input may take at most 25 s; -rss_limit_mb guards the
    # runner.  The corpus directory comes last: libFuzzer adds to it.
    # shellcheck disable=SC2086 # FUZZ_FLAGS and dict are word lists
    "$bin" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix="$dir/" $dict ${FUZZ_FLAGS:-} "$dir/corpus" >"$dir/log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -n 1)
    if [ $rc -ne 0 ]; then
        failed="$failed $t"
        echo "FAIL fuzz_$t (exit $rc); log: $dir/log"
        grep -a -E 'fuzz check failed|ERROR:|SUMMARY:|runtime error|Assertion|Test unit written' \
            "$dir/log" | head -n 20
        for f in "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-*; do
            [ -e "$f" ] && echo "  reproduce: $bin $f"
        done
    elif [ -z "$runs" ]; then
        echo "ok   fuzz_$t: corpus replayed (a replay build does not fuzz)"
    else
        echo "ok   fuzz_$t: $runs inputs, ${rate:-?} exec/s," \
            "corpus $(find "$dir/corpus" -type f | wc -l) files"
    fi
done

if [ -n "$failed" ]; then
    echo "run.sh: failed:$failed" >&2
    exit 1
fi
exit 0
