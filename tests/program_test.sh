#!/usr/bin/env bash
# program_test.sh BENCH - `bench -- PROGRAM ARGS...` runs a user's program
# under each system allocator and says so honestly.
#
#  1. a Python program that allocates 200,000 small objects, under the four
#     system allocators, two repetitions: 8 rows in Google Benchmark's shape
#     with every figure, interleaved (every allocator's repetition 0, then
#     every allocator's repetition 1), the preload proven in each run,
#     allocator versions, memory over time in .samples.csv, one console line
#     per run, exit 0, no temporary files left behind;
#  2. a program that crashes under one allocator only: an error row with the
#     signal and the stderr tail, the other row kept, exit 1;
#  3. a non-zero exit and a timeout: error rows, exit 1;
#  4. a program that execs past the preload (env -u LD_PRELOAD): the proof
#     is not claimed; in-process allocators are skipped with a reason;
#  5. --shuffle keeps every repetition whole; --rlimit-as limits the program;
#  6. bad input: one line on stderr, nothing on stdout, exit 2.
bench=$1
. "$(dirname "$0")/lib.sh"

# 1. the full matrix ---------------------------------------------------------
"$bench" --allocator=glibc,jemalloc,mimalloc,tcmalloc --repetitions=2 --sample-hz=200 \
  --out="$tmp/full" -- python3 -c "x = [bytes(100) for _ in range(200000)]" >"$tmp/full.out" 2>&1
rc=$?
cat "$tmp/full.out"
[[ $rc -eq 0 ]] || die "full run exited $rc, expected 0"
[[ $(grep -c '^rep ' "$tmp/full.out") -eq 8 ]] || die "expected 8 console lines, one per run"
json=$(ls "$tmp"/full/*_program-python3_glibc+jemalloc+mimalloc+tcmalloc.json 2>/dev/null | head -1)
[[ -f $json && -f ${json%.json}.csv && -f ${json%.json}.samples.csv ]] \
  || die "results files missing in $tmp/full"
ls -a "$tmp/full" | grep -qE '\.tmp\.|\.err$|write-test' && die "temporary files left behind"
python3 - "$json" <<'PY' || fail=1
import csv, json, sys
path = sys.argv[1]
doc = json.load(open(path))
rows, bad = doc["benchmarks"], []
allocators = ["glibc", "jemalloc", "mimalloc", "tcmalloc"]
for key in ("date", "host_name", "num_cpus", "executable", "kernel", "command_line"):
    if key not in doc["context"]: bad.append("context lacks " + key)
if len(rows) != 8: bad.append("expected 8 rows, got %d" % len(rows))
order = [(r.get("repetition_index"), r.get("allocator")) for r in rows]
if order != [(i, a) for i in (0, 1) for a in allocators]:
    bad.append("runs not interleaved: %s" % order)
want = ("name", "run_name", "run_type", "repetitions", "repetition_index", "threads",
        "iterations", "real_time", "cpu_time", "time_unit", "workload", "variant", "allocator",
        "allocator_version", "collector", "params", "seconds", "user_seconds", "sys_seconds",
        "rss_peak", "minor_faults", "major_faults", "exit_status", "preload_verified")
for r in rows:
    n = "%s#%s" % (r.get("name"), r.get("repetition_index"))
    for k in want:
        if k not in r: bad.append("%s lacks %s" % (n, k))
    if bad: break
    if r["name"] != "program/python3/%s/-" % r["allocator"] or r["run_name"] != r["name"]:
        bad.append("%s: bad name" % n)
    if (r["run_type"], r["repetitions"], r["threads"], r["iterations"], r["time_unit"]) != \
            ("iteration", 2, 1, 1, "ns"):
        bad.append("%s: not Google Benchmark's iteration shape" % n)
    if (r["workload"], r["variant"], r["collector"]) != ("program", "python3", "-"):
        bad.append("%s: workload/variant/collector" % n)
    if "bytes(100)" not in r["params"]: bad.append("%s: params %r" % (n, r["params"]))
    if r.get("error_occurred"): bad.append("%s: error %s" % (n, r.get("error_message")))
    if not (r["seconds"] > 0 and abs(r["real_time"] - r["seconds"] * 1e9) < 1e3):
        bad.append("%s: real_time %s vs seconds %s" % (n, r["real_time"], r["seconds"]))
    if abs(r["cpu_time"] - (r["user_seconds"] + r["sys_seconds"]) * 1e9) > 1e3:
        bad.append("%s: cpu_time != user + sys" % n)
    if not r["rss_peak"] > 20 * 2**20: bad.append("%s: rss_peak %s" % (n, r["rss_peak"]))
    if not r["minor_faults"] > 0 or r["major_faults"] < 0: bad.append("%s: faults" % n)
    if r["exit_status"] != 0: bad.append("%s: exit_status %s" % (n, r["exit_status"]))
    if r["preload_verified"] is not True:
        bad.append("%s: preload not verified: %s" % (n, r.get("preload_evidence")))
    if not r["allocator_version"].startswith(r["allocator"] + " "):
        bad.append("%s: allocator_version %r" % (n, r["allocator_version"]))
    if r["allocator"] != "glibc" and "lib" + r["allocator"] not in r.get("preload_library", ""):
        bad.append("%s: preload_library %r" % (n, r.get("preload_library")))
samples = list(csv.DictReader(open(path[:-5] + ".samples.csv")))
for a in allocators:
    mine = [s for s in samples if s["allocator"] == a]
    if len(mine) < 2: bad.append("%s: %d samples" % (a, len(mine)))
    if any(s["phase"] != "run" or s["live_bytes"] != "" or not int(s["rss_bytes"]) > 0
           or s["workload"] != "program" or s["collector"] != "-" for s in mine):
        bad.append("%s: a malformed sample" % a)
if max(int(s["rss_bytes"]) for s in samples) < 20 * 2**20: bad.append("samples never saw the heap")
csv_rows = list(csv.DictReader(open(path[:-5] + ".csv")))
if len(csv_rows) != 8 or any(c["status"] != "ok" or not c["rss_peak"] for c in csv_rows):
    bad.append("CSV rows: %s" % csv_rows)
for b in bad: print("FAIL:", b)
sys.exit(1 if bad else 0)
PY

# 2. a crash under one allocator ----------------------------------------------
"$bench" --allocator=glibc,jemalloc --out="$tmp/crash" -- sh -c \
  'case "$LD_PRELOAD" in *jemalloc*) echo "boom under jemalloc" >&2; kill -SEGV $$;; esac' \
  >"$tmp/crash.out" 2>&1
rc=$?
cat "$tmp/crash.out"
[[ $rc -eq 1 ]] || die "crash run exited $rc, expected 1"
grep -q '^rep 1/1  jemalloc  FAILED.*signal 11' "$tmp/crash.out" || die "console lacks the crash"
python3 - "$tmp"/crash/*.json <<'PY' || fail=1
import json, sys
rows = json.load(open(sys.argv[1]))["benchmarks"]
bad = []
ok = [r for r in rows if r["allocator"] == "glibc"]
err = [r for r in rows if r["allocator"] == "jemalloc"]
if len(rows) != 2 or len(ok) != 1 or len(err) != 1: bad.append("rows: %s" % rows)
else:
    if ok[0].get("error_occurred") or ok[0].get("exit_status") != 0: bad.append("glibc row lost")
    e = err[0]
    if e.get("error_occurred") is not True or "signal 11" not in e.get("error_message", ""):
        bad.append("jemalloc crash not an error row: %s" % e)
    if e.get("signal") != 11 or "exit_status" in e: bad.append("signal not recorded: %s" % e)
    if "boom under jemalloc" not in e.get("stderr_tail", ""): bad.append("stderr tail missing")
    if "seconds" not in e or "rss_peak" not in e: bad.append("crash row lacks its figures")
for b in bad: print("FAIL:", b)
sys.exit(1 if bad else 0)
PY

# 3. a non-zero exit and a timeout --------------------------------------------
"$bench" --out="$tmp/exit" -- sh -c 'echo "no input file" >&2; exit 3' >"$tmp/exit.out" 2>&1
rc=$?
[[ $rc -eq 1 ]] || die "exit-3 run exited $rc, expected 1"
grep -q 'FAILED.*exited with status 3: no input file' "$tmp/exit.out" \
  || { cat "$tmp/exit.out"; die "console lacks the exit status"; }
grep -q '"exit_status":[[:space:]]*3' "$tmp"/exit/*.json || die "exit_status 3 not recorded"
start=$SECONDS
"$bench" --timeout=1 --out="$tmp/slow" -- sh -c 'sleep 30' >"$tmp/slow.out" 2>&1
rc=$?
[[ $rc -eq 1 ]] || die "timed-out run exited $rc, expected 1"
(( SECONDS - start < 10 )) || die "the timeout did not stop the run"
grep -q 'FAILED.*timed out after 1 s' "$tmp/slow.out" || { cat "$tmp/slow.out"; die "no timeout"; }
grep -q '"timed_out":[[:space:]]*true' "$tmp"/slow/*.json || die "timed_out not recorded"

# 4. no false proof; in-process allocators skipped ----------------------------
"$bench" --allocator=jemalloc,pool --sample-hz=20 --out="$tmp/escape" -- \
  env -u LD_PRELOAD sleep 0.5 >"$tmp/escape.out" 2>&1
rc=$?
cat "$tmp/escape.out"
[[ $rc -eq 0 ]] || die "escape run exited $rc, expected 0"
grep -q '^skip .*pool.*cannot replace a program' "$tmp/escape.out" || die "pool not skipped"
python3 - "$tmp"/escape/*.json <<'PY' || fail=1
import json, sys
doc = json.load(open(sys.argv[1]))
rows, bad = doc["benchmarks"], []
if [r["allocator"] for r in rows] != ["jemalloc"]: bad.append("rows: %s" % rows)
elif rows[0]["preload_verified"] is not False:
    bad.append("proof claimed for a program that dropped the preload: %s"
               % rows[0].get("preload_evidence"))
if [s["name"] for s in doc.get("skipped", [])] != ["program/env/pool/-"]:
    bad.append("skipped: %s" % doc.get("skipped"))
for b in bad: print("FAIL:", b)
sys.exit(1 if bad else 0)
PY

# 5. --shuffle and --rlimit-as ------------------------------------------------
"$bench" --allocator=glibc,jemalloc,mimalloc,tcmalloc --repetitions=3 --shuffle=7 \
  --out="$tmp/shuffle" -- true >"$tmp/shuffle.out" 2>&1 || die "shuffled run exited $?"
python3 - "$tmp"/shuffle/*.json <<'PY' || fail=1
import json, sys
rows = json.load(open(sys.argv[1]))["benchmarks"]
reps = [r["repetition_index"] for r in rows]
orders = [[r["allocator"] for r in rows if r["repetition_index"] == i] for i in range(3)]
bad = []
if reps != sorted(reps) or len(rows) != 12: bad.append("repetitions not in rounds: %s" % reps)
if any(sorted(o) != ["glibc", "jemalloc", "mimalloc", "tcmalloc"] for o in orders):
    bad.append("a round lacks an allocator: %s" % orders)
if all(o == ["glibc", "jemalloc", "mimalloc", "tcmalloc"] for o in orders):
    bad.append("--shuffle=7 left every round in selection order")
for b in bad: print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
"$bench" --rlimit-as=64M --out="$tmp/limit" -- python3 -c "x = bytearray(200 * 2**20)" \
  >"$tmp/limit.out" 2>&1
rc=$?
[[ $rc -eq 1 ]] && grep -q 'FAILED.*MemoryError' "$tmp/limit.out" \
  || { cat "$tmp/limit.out"; die "--rlimit-as did not limit the program (exit $rc)"; }

# 6. bad input -----------------------------------------------------------------
printf 'echo hi\n' >"$tmp/not-executable"
chmod 644 "$tmp/not-executable"
while IFS='|' read -r args phrase; do
  args=${args%"${args##*[![:space:]]}"}; phrase=${phrase# }
  [[ -z $args ]] && continue
  # shellcheck disable=SC2086
  "$bench" --out="$tmp/bad" $args >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  if [[ $rc -ne 2 || $(wc -l <"$tmp/stderr") -ne 1 || -s $tmp/stdout ]] \
     || ! grep -qF -- "$phrase" "$tmp/stderr"; then
    die "[$args]: exit $rc, expected 2 and one line with '$phrase': $(cat "$tmp/stderr")"
  else
    echo "ok   [$args] -> $(cat "$tmp/stderr")"
  fi
done <<TABLE
--                                   | -- needs a program to run
--allocator=glibc --                 | -- needs a program to run
-- heaplab-no-such-program           | not found in PATH
-- $tmp/no-such-file                 | not found
-- $tmp/not-executable               | is not executable
-- $tmp                              | is not a file
--allocator=pool,arena -- true       | no selected allocator can run a program
--workload=churn -- true             | do not apply to -- PROGRAM
--collector=manual -- true           | --collector does not apply to -- PROGRAM
--duration=5 -- true                 | --duration does not apply to -- PROGRAM
--fail-alloc=3 -- true               | --fail-alloc does not apply to -- PROGRAM
stray -- true                        | unexpected argument 'stray'
--program-stdout=/etc/passwd -- true | --program-stdout: cannot write to /etc/passwd
TABLE
[[ -e $tmp/bad ]] && ls "$tmp/bad" | grep -q . && die "bad input wrote results"

exit $fail
