#!/usr/bin/env bash
# registry_test.sh BENCH TESTREG - a collector is its own file plus one
# registry line: the matrix, --list and the workloads pick it up.
#
# TESTREG is heaplab_testreg: the same program, whose collector registry
# has one more line, `manual-copy` (tests/manual_copy.c: manual under
# another name).  Nothing else was edited to add it, so:
#  1. the release BENCH does not list it (test-only);
#  2. TESTREG --list shows it among the collectors, and each workload's
#     "collectors:" line is the release line with manual-copy added: no
#     workload keeps a list of names that leaves a registered collector out;
#  3. a quick matrix of every workload under manual and manual-copy runs
#     every variant under manual-copy (none skipped or failed) and each row
#     equals its manual twin: checksum, ops, allocation counts, live peak,
#     leaked bytes (a difference is a harness that treats the collector by
#     name).  manual-copy has no fast paths (hl_gc_fast), so every object
#     goes through its table where manual's are made and freed inline: this
#     is also the end-to-end check that the two paths give the same rows.  A cell that ran threads (replay's
#     built-in trace has two) peaks where its interleaving put the peak,
#     which varies from run to run (2571714 and 2571935 bytes for the same
#     trace): its live peak must agree within 1%, the rest exactly.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bench=$1
testreg=$2

"$bench" --list >"$tmp/release.list" 2>&1 || die "release --list exited $?"
"$testreg" --list >"$tmp/testreg.list" 2>&1 || die "testreg --list exited $?"
grep -q "manual-copy" "$tmp/release.list" && die "the release build lists the test-only manual-copy"

python3 - "$tmp/release.list" "$tmp/testreg.list" <<'PY' || fail=1
import re, sys
def parse(path):
    collectors, workloads, section, current = [], {}, None, None
    for line in open(path):
        if line.startswith("collectors (--collector=)"): section = "c"; continue
        if line.startswith("workloads (--workload=)"): section = "w"; continue
        if line.strip() == "": continue
        if section == "c" and line.startswith("  ") and not line.startswith("   "):
            collectors.append(line.split()[0])
        if section == "w":
            if line.startswith("  ") and not line.startswith("   "):
                current = line.split()[0]
            m = re.match(r"\s+collectors:(.*)", line)
            if m and current:
                workloads[current] = m.group(1).replace("(default)", "").split()
    return collectors, workloads
rc, rw = parse(sys.argv[1])
tc, tw = parse(sys.argv[2])
bad = []
if tc != rc + ["manual-copy"]:
    bad.append("testreg collectors %s, expected the release ones %s plus manual-copy" % (tc, rc))
if sorted(tw) != sorted(rw) or not rw:
    bad.append("workloads differ: %s vs %s" % (sorted(tw), sorted(rw)))
for w in rw:
    if tw.get(w) != rw[w] + ["manual-copy"]:
        bad.append("%s runs under %s in the test build, expected %s plus manual-copy"
                   % (w, tw.get(w), rw[w]))
for b in bad: print("FAIL:", b)
sys.exit(1 if bad else 0)
PY

"$testreg" --quick --seed=1 --sample-hz=10 --allocator=pool --workload=all \
  --collector=manual,manual-copy --out="$tmp/r" >"$tmp/run" 2>&1 \
  || { tail -20 "$tmp/run"; die "the quick matrix under manual and manual-copy failed"; }
python3 - "$tmp"/r/*.json "$tmp/testreg.list" <<'PY' || fail=1
import json, re, sys
rows = [r for r in json.load(open(sys.argv[1]))["benchmarks"] if r.get("run_type") == "iteration"]
listed = [l.split()[0] for l in open(sys.argv[2]).read().split("workloads (--workload=):")[1].splitlines()
          if l.startswith("  ") and not l.startswith("   ")]
bad = []
key = lambda r: (r["workload"], r["variant"], r.get("threads"))
manual = {key(r): r for r in rows if r["collector"] == "manual"}
copy = {key(r): r for r in rows if r["collector"] == "manual-copy"}
for r in rows:
    if r.get("error_occurred"):
        bad.append("%s failed: %s" % (r["name"], r.get("error_message")))
if set(copy) != set(manual):
    bad.append("cells run under only one of manual and manual-copy: %s"
               % sorted(set(copy) ^ set(manual)))
missing = sorted(set(listed) - {k[0] for k in copy})
if missing:
    bad.append("workloads never run under manual-copy: %s" % missing)
def threaded(r):
    return (r.get("threads") or 1) > 1 or (r.get("wl_trace_threads") or 1) > 1
for k, m in manual.items():
    c = copy.get(k)
    if c is None: continue
    exact = ("checksum", "ops", "allocs", "frees", "bytes_allocated", "leaked_bytes")
    if not threaded(m):
        exact += ("live_peak",)
    elif not (m.get("live_peak") is not None and c.get("live_peak") is not None
              and abs(m["live_peak"] - c["live_peak"]) <= m["live_peak"] / 100):
        bad.append("%s: live_peak %s under manual, %s under manual-copy (threaded: 1%% allowed)"
                   % ("/".join(map(str, k)), m.get("live_peak"), c.get("live_peak")))
    for f in exact:
        if m.get(f) != c.get(f):
            bad.append("%s: %s %s under manual, %s under manual-copy" % ("/".join(map(str, k)), f, m.get(f), c.get(f)))
if not bad:
    print("registry_test: %d cells under manual-copy, each equal to its manual twin" % len(copy))
for b in bad: print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
grep -q "skipped" "$tmp/run" && { grep skipped "$tmp/run"; die "cells were skipped"; }
exit $fail
