#!/usr/bin/env bash
# cli_run.sh BENCH [system] - the command line does what it says.
#
# --help and --list answer; a quick matrix writes one JSON document in
# Google Benchmark's shape and a CSV with one row per cell; the rows carry
# every figure the foundation promises.  With `system`, also: each system
# allocator cell proves its allocator, and a process whose malloc is not the
# one it names refuses to measure.
set -u
bench=$1
mode=${2:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
die() { echo "FAIL: $*"; fail=1; }

"$bench" --help >"$tmp/help" 2>&1 || die "--help exited $?"
grep -q -- "--allocator=LIST" "$tmp/help" || die "--help lacks --allocator"
"$bench" --list >"$tmp/list" 2>&1 || die "--list exited $?"
for name in glibc jemalloc mimalloc tcmalloc pool arena manual churn live ops mixed fixed64; do
  grep -qw "$name" "$tmp/list" || die "--list lacks $name"
done

"$bench" --quick --allocator=pool,arena --workload=churn --out="$tmp/r" >"$tmp/run" 2>&1 \
  || { cat "$tmp/run"; die "quick run exited non-zero"; }
cat "$tmp/run"
json=$(ls "$tmp"/r/*_churn_pool+arena.json 2>/dev/null | head -1)
csv=${json%.json}.csv
[[ -f $json && -f $csv ]] || die "results files missing in $tmp/r"
ls -a "$tmp/r" | grep -q '\.tmp\.' && die "temporary files left behind"
python3 - "$json" "$csv" <<'PY' || fail=1
import csv, json, sys
doc = json.load(open(sys.argv[1]))
rows = doc["benchmarks"]
bad = []
for key in ("date", "host_name", "num_cpus", "library_build_type", "kernel", "heaplab_commit"):
    if key not in doc["context"]: bad.append("context lacks " + key)
want = ("name", "run_type", "iterations", "real_time", "cpu_time", "time_unit", "workload",
        "variant", "allocator", "allocator_version", "collector", "params", "seed", "ops",
        "seconds", "ns_per_op", "ops_per_sec", "rss_base", "rss_peak", "rss_end", "live_peak",
        "leaked_bytes", "checksum", "allocs", "frees")
if len(rows) != 4: bad.append("expected 4 rows (2 variants x 2 allocators), got %d" % len(rows))
for r in rows:
    for k in want:
        if k not in r: bad.append("%s lacks %s" % (r.get("name"), k))
    if r.get("ops") != 200000: bad.append("%s ops %s != 200000" % (r["name"], r.get("ops")))
    if r.get("leaked_bytes") != 0: bad.append("%s leaked %s" % (r["name"], r.get("leaked_bytes")))
    if r.get("allocs") != 201000: bad.append("%s allocs %s" % (r["name"], r.get("allocs")))
    if abs(r["ns_per_op"] - r["real_time"]) > 1e-9: bad.append("ns_per_op != real_time")
    if r["allocator"] == "pool" and "alloc_arenas_mapped" not in r: bad.append("pool stats missing")
    # --quick's live set (~100 KiB) is below fragmentation's 1 MiB floor
    # (docs/metrics.md): the ratio is absent, and the footprint says it.
    if ("fragmentation" in r) != (r["live_peak"] >= 1 << 20):
        bad.append("%s: fragmentation %s with live_peak %d" % (r["name"], r.get("fragmentation"),
                                                                r["live_peak"]))
    if r["allocator"] == "arena" and r["rss_peak"] - r["rss_base"] < 10 * r["live_peak"]:
        bad.append("arena never reuses: its footprint %d should dwarf live_peak %d"
                   % (r["rss_peak"] - r["rss_base"], r["live_peak"]))
sums = {}
for r in rows: sums.setdefault(r["variant"], set()).add(r["checksum"])
for v, s in sums.items():
    if len(s) != 1: bad.append("variant %s: checksums differ across allocators: %s" % (v, s))
lines = list(csv.DictReader(open(sys.argv[2])))
if len(lines) != 4: bad.append("csv has %d rows, expected 4" % len(lines))
for line in lines:
    if line["status"] != "ok": bad.append("csv row not ok: %s" % line)
for b in bad: print("FAIL:", b)
sys.exit(1 if bad else 0)
PY

# A cell that hangs is killed at its timeout, recorded as failed with the
# reason, and the run still writes its results and exits 1.
"$bench" --allocator=pool --param variant=fixed64 --param ops=100000000000 --timeout=1 \
  --out="$tmp/hang" >"$tmp/hang.out" 2>&1
rc=$?
[[ $rc -eq 1 ]] || die "timed-out cell: exit $rc, expected 1"
grep -q "timed out after 1 s" "$tmp"/hang/*.csv 2>/dev/null || die "timeout not recorded: $(cat "$tmp/hang.out")"

if [[ $mode == system ]]; then
  "$bench" --quick --allocator=glibc,jemalloc,mimalloc,tcmalloc --param variant=fixed64 \
    --out="$tmp/sys" >"$tmp/sys.out" 2>&1 || { cat "$tmp/sys.out"; die "system allocators run failed"; }
  cat "$tmp/sys.out"
  python3 - "$tmp"/sys/*.json <<'PY' || fail=1
import json, sys
rows = json.load(open(sys.argv[1]))["benchmarks"]
expect = {"glibc": "glibc 2.", "jemalloc": "jemalloc 5.", "mimalloc": "mimalloc 2.",
          "tcmalloc": "tcmalloc (gperftools 2."}
seen = {r["allocator"]: r["allocator_version"] for r in rows}
bad = [a for a, v in expect.items() if not seen.get(a, "").startswith(v)]
for a in bad: print("FAIL: %s reported version %r" % (a, seen.get(a)))
sys.exit(1 if bad else 0)
PY
  # The identity proof refuses a process whose malloc is not the one it names.
  "$bench" --run-cell --allocator=jemalloc --workload=churn --collector=manual \
    --cell-out="$tmp/x.json" >/dev/null 2>"$tmp/err1"
  [[ $? -eq 1 ]] && grep -q "allocator jemalloc requested, but malloc is served by" "$tmp/err1" \
    || die "jemalloc cell without jemalloc did not refuse: $(cat "$tmp/err1")"
  LD_PRELOAD=/usr/lib/$(gcc -print-multiarch)/libmimalloc.so.2 "$bench" --run-cell \
    --allocator=glibc --workload=churn --collector=manual --cell-out="$tmp/y.json" \
    >/dev/null 2>"$tmp/err2"
  [[ $? -eq 1 ]] && grep -q "allocator glibc requested, but malloc is served by .*mimalloc" "$tmp/err2" \
    || die "glibc cell under mimalloc did not refuse: $(cat "$tmp/err2")"
  [[ -e $tmp/x.json || -e $tmp/y.json ]] && die "a refused cell wrote results"
fi
[[ $fail -eq 0 ]] && echo "cli_run: all checks passed"
exit $fail
