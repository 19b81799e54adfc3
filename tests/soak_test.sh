#!/usr/bin/env bash
# soak_test.sh BENCH - --duration repeats a cell's workload on one allocator,
# reports the slopes of RSS and live bytes, and fails a cell whose RSS grows
# more than its live bytes explain: the region allocator (which never
# reuses) is flagged, the pool is not, and a leak shows as live growth.
bench=$1
. "$(dirname "$0")/lib.sh"
soak() { "$bench" --quick --workload=churn --param variant=fixed64 --duration=2 "$@" >"$tmp/out" 2>&1; }

soak --allocator=pool,arena --out="$tmp/a"
[[ $? -eq 1 ]] || die "arena's growth not flagged (exit 0)"
grep -q "arena .*more than live bytes explain" "$tmp/out" || die "no message for arena: $(cat "$tmp/out")"
grep -q "pool .*FAILED" "$tmp/out" && die "pool flagged: $(cat "$tmp/out")"

soak --allocator=pool --decorate=leak --out="$tmp/b"
[[ $? -eq 0 ]] || die "a leak that live bytes explain was flagged: $(cat "$tmp/out")"

python3 - "$tmp" <<'PY' || fail=1
import glob, json, sys
d = sys.argv[1]
rows = {r["allocator"]: r for r in json.load(open(glob.glob(d + "/a/*.json")[0]))["benchmarks"]}
leak = json.load(open(glob.glob(d + "/b/*.json")[0]))["benchmarks"][0]
bad = []
for name, r in rows.items():
    for k in ("soak_cycles", "soak_seconds", "rss_slope_bytes_per_s", "live_slope_bytes_per_s"):
        if k not in r: bad.append("%s lacks %s" % (name, k))
if rows["arena"].get("soak_unexplained_growth") is not True: bad.append("arena not flagged in JSON")
if rows["pool"].get("soak_unexplained_growth") is not False: bad.append("pool flagged in JSON")
if rows["pool"]["soak_cycles"] < 2: bad.append("soak ran one cycle only")
if leak["live_slope_bytes_per_s"] <= 0: bad.append("leak: live bytes did not grow")
for b in bad: print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
[[ $fail -eq 0 ]] && echo "soak_test: all checks passed"
exit $fail
