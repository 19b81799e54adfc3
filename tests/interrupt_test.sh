#!/usr/bin/env bash
# interrupt_test.sh BENCH SOURCE_DIR - no run loses data.
#
# A matrix stopped by SIGTERM, SIGINT or SIGHUP keeps its finished cells:
# the JSON, CSV and samples CSV are written whole with the finished rows and
# one interrupted row for every other cell, one stderr line names the files,
# bench dies of the signal (143, 130, 129) and no .cell-* scratch file stays
# in --out, not even when the signal lands in the middle of a cell; a
# program run (bench -- PROGRAM) keeps its finished runs alike.  Three
# runs that finish in the same second into one --out keep three complete,
# distinct result sets.
#
# Every signal is sent at a known point, never after a sleep: the matrix
# pauses after N cells when HEAPLAB_TEST_PAUSE_AFTER_CELLS=N and says so on
# stdout; a cell in progress is known by its scratch file in --out (made when
# its process is spawned) and by a soak (--duration) that outlasts any
# machine's delay.  HEAPLAB_TEST_FIXED_TIME makes runs meet in one second.
bench=$1
src=$2
. "$(dirname "$0")/lib.sh"
pids=()
# On the way out, no process of this test may outlive it: not bench, and
# not a cell that a broken bench left running.
cleanup() {
  for p in "${pids[@]}" $(pgrep -f -- "--cell-out=$tmp/"); do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# wait_for PID WHAT CMD...: poll until CMD succeeds; fail if PID ends first.
wait_for() {
  local pid=$1 what=$2
  shift 2
  for _ in $(seq 3000); do
    "$@" && return 0
    kill -0 "$pid" 2>/dev/null || { die "bench ended before $what"; return 1; }
    sleep 0.1
  done
  die "gave up waiting for $what"
  return 1
}

# wait_exit PID: wait for PID (a bench that was signalled) and leave its exit
# status in $rc.  A bench that is still running after 5 minutes did not stop
# as asked: it is killed and the test fails.
wait_exit() {
  local pid=$1
  for _ in $(seq 3000); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    die "bench did not stop when signalled"
    kill -KILL "$pid"
  fi
  wait "$pid"
  rc=$?
}

# stop_run NAME SIGNAL PAUSE ARGS...: run the matrix in $tmp/NAME, pause it
# after PAUSE cells, send SIGNAL; leaves the exit status in $tmp/NAME.rc.
stop_run() {
  local name=$1 sig=$2 pause=$3
  shift 3
  mkdir -p "$tmp/$name"
  # A background job of a script starts with SIGINT ignored: undo that, as
  # a terminal's Ctrl-C would find it.
  HEAPLAB_TEST_PAUSE_AFTER_CELLS=$pause env --default-signal=INT \
    "$bench" "$@" --out="$tmp/$name" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  local pid=$!
  pids+=("$pid")
  wait_for "$pid" "the pause after $pause cell(s)" grep -q "test pause after $pause cell" \
    "$tmp/$name.out"
  kill -"$sig" "$pid"
  wait_exit "$pid"
  echo "$rc" >"$tmp/$name.rc"
}

# check_kept NAME RC SIGNAL FINISHED TOTAL: the set NAME left is whole.
check_kept() {
  local name=$1 rc=$2 sig=$3 finished=$4 total=$5
  local got
  got=$(cat "$tmp/$name.rc")
  [[ $got == "$rc" ]] || die "$name: exit status $got, expected $rc"
  cat "$tmp/$name.out" "$tmp/$name.err"
  [[ $(wc -l <"$tmp/$name.err") == 1 ]] || die "$name: stderr is not one line"
  local json
  json=$(ls "$tmp/$name"/*.json 2>/dev/null)
  [[ $(ls -A "$tmp/$name" | wc -l) == 3 && -f ${json%.json}.csv && -f ${json%.json}.samples.csv ]] \
    || die "$name: expected exactly one .json, .csv and .samples.csv, found: $(ls -A "$tmp/$name")"
  grep -qF "interrupted by $sig: kept $finished of $total cell(s)" "$tmp/$name.err" \
    || die "$name: the stderr line does not say what was kept"
  grep -qF "$json (.csv, .samples.csv)" "$tmp/$name.err" || die "$name: the stderr line does not name $json"
  python3 - "$json" "$sig" "$finished" "$total" <<'PY' || fail=1
import csv, json, sys
path, sig, finished, total = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
doc = json.load(open(path))
rows = [r for r in doc["benchmarks"] if r.get("run_type") == "iteration"]
ok = [r for r in rows if not r.get("error_occurred")]
cut = [r for r in rows if r.get("error_occurred")]
bad = []
cells = lambda rs: {(r["workload"], r["variant"]) for r in rs}
if len(cells(ok) - cells(cut)) != finished:
    bad.append("%d finished cell(s), expected %d" % (len(cells(ok) - cells(cut)), finished))
if any("ns_per_op" not in r or "rss_peak" not in r for r in ok):
    bad.append("a finished row lacks its figures")
if any(r.get("interrupted") is not True or
       not r.get("error_message", "").startswith("interrupted by " + sig) for r in cut):
    bad.append("an error row is not an interrupted row: %s" % [r.get("error_message") for r in cut])
if len(cells(ok) | cells(cut)) != total:
    bad.append("%d cell(s) in the document, expected %d" % (len(cells(ok) | cells(cut)), total))
if doc["context"].get("interrupted_by") != sig:
    bad.append("context.interrupted_by is %r" % doc["context"].get("interrupted_by"))
table = list(csv.DictReader(open(path[:-5] + ".csv")))
want = sorted(["ok"] * len(ok) + ["interrupted"] * len(cut))
if sorted(r["status"] for r in table) != want:
    bad.append("CSV statuses %s, expected %s" % (sorted(r["status"] for r in table), want))
names = {r["name"] for r in csv.DictReader(open(path[:-5] + ".samples.csv"))}
if len(names) != len(cells(ok)):
    bad.append("samples for %d cell(s), expected %d" % (len(names), len(cells(ok))))
for b in bad: print("FAIL: %s: %s" % (path, b))
sys.exit(1 if bad else 0)
PY
}

matrix=(--quick --workload=churn,ring,genlist,slots --allocator=pool)

# SIGTERM after 3 of 8 cells: 3 kept, 5 interrupted.
stop_run term TERM 3 "${matrix[@]}"
check_kept term 143 SIGTERM 3 8

# --compare holds the interrupted run to a full one: the unfinished cells
# are noticed and not judged, never regressions.
"$bench" "${matrix[@]}" --out="$tmp/full" >"$tmp/full.out" 2>&1 || die "the full run failed"
"$bench" --compare "$tmp/full" "$tmp/term" >"$tmp/cmp.out" 2>&1
rc=$?
[[ $rc == 0 ]] || { cat "$tmp/cmp.out"; die "--compare against an interrupted run exited $rc"; }
grep -q "not judged (.*5 cell(s): the current run was interrupted before they finished" "$tmp/cmp.out" \
  || { cat "$tmp/cmp.out"; die "--compare does not count the interrupted cells"; }

# SIGINT (Ctrl-C) after 1 of 2 cells.
stop_run int INT 1 --quick --workload=churn --allocator=pool
check_kept int 130 SIGINT 1 2

# SIGHUP in the middle of interleaved repetitions: the finished repetitions
# are kept, both cells are recorded as interrupted.
stop_run hup HUP 3 --quick --workload=churn --allocator=pool --repetitions=3 --shuffle=1
check_kept hup 129 SIGHUP 0 2
python3 - "$tmp"/hup/*.json <<'PY' || fail=1
import json, sys
rows = json.load(open(sys.argv[1]))["benchmarks"]
reps = [r for r in rows if not r.get("error_occurred")]
cut = sorted(r["error_message"] for r in rows if r.get("interrupted"))
bad = []
if len(reps) != 3: bad.append("%d repetition rows kept, expected 3" % len(reps))
if any(r.get("run_type") == "aggregate" for r in rows): bad.append("aggregates of unfinished cells")
if cut != ["interrupted by SIGHUP after 1 of 3 repetitions", "interrupted by SIGHUP after 2 of 3 repetitions"]:
    bad.append("interrupted rows say %s" % cut)
for b in bad: print("FAIL: hup: " + b)
sys.exit(1 if bad else 0)
PY

# SIGTERM in the middle of a cell (a soak that runs for 10 minutes unless
# stopped): the cell's process is stopped too, nothing finished so nothing is
# written, and its scratch files go, including a temporary file that a
# process killed in the middle of a write would leave.
mkdir -p "$tmp/mid"
"$bench" --duration=600 --workload=churn --param variant=mixed --allocator=pool \
  --out="$tmp/mid" >"$tmp/mid.out" 2>"$tmp/mid.err" &
pid=$!
pids+=("$pid")
has_cell_file() { ls -A "$tmp/mid" | grep -q '^\.cell-'; }
if wait_for "$pid" "the cell's process" has_cell_file; then
  echo partial >"$tmp/mid/.cell-$pid-0.json.tmp.999999"
  kill -TERM "$pid"
  wait_exit "$pid"
  cat "$tmp/mid.out" "$tmp/mid.err"
  [[ $rc == 143 ]] || die "mid-cell: exit status $rc, expected 143"
  [[ -z $(ls -A "$tmp/mid") ]] || die "mid-cell: files left in --out: $(ls -A "$tmp/mid")"
  [[ $(cat "$tmp/mid.err") == "bench: interrupted by SIGTERM before any of 1 cell(s) finished; nothing written" ]] \
    || die "mid-cell: the stderr line is not what was expected"
  pgrep -f -- "--cell-out=$tmp/mid/" >/dev/null && die "mid-cell: the cell's process outlived bench"
fi

# bench -- PROGRAM stopped in its second run (the program sleeps once its
# first run has left a flag): the finished run is kept, the sleeping program
# is killed, one line says so.
mkdir -p "$tmp/prog"
"$bench" --allocator=glibc --repetitions=3 --out="$tmp/prog" -- \
  sh -c 'if [ -e "$0" ]; then exec sleep 600; fi; touch "$0"' "$tmp/flag" \
  >"$tmp/prog.out" 2>"$tmp/prog.err" &
pid=$!
pids+=("$pid")
if wait_for "$pid" "the program's first run" grep -q "^rep 1/3" "$tmp/prog.out"; then
  kill -TERM "$pid"
  wait_exit "$pid"
  cat "$tmp/prog.out" "$tmp/prog.err"
  [[ $rc == 143 ]] || die "program: exit status $rc, expected 143"
  grep -qF "interrupted by SIGTERM: kept 1 of 3 run(s) in $tmp/prog/" "$tmp/prog.err" \
    && [[ $(wc -l <"$tmp/prog.err") == 1 ]] || die "program: the stderr line does not say what was kept"
  [[ $(ls -A "$tmp/prog" | sed 's/^[^_]*_//' | sort | tr '\n' ' ') == \
     "program-sh_glibc.csv program-sh_glibc.json program-sh_glibc.samples.csv " ]] \
    || die "program: expected one result set, found: $(ls -A "$tmp/prog")"
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if len(d["benchmarks"]) == 1 and d["context"].get("interrupted_by") == "SIGTERM" else 1)' \
    "$tmp"/prog/*.json || die "program: the JSON does not hold the one finished run"
fi

# Three runs that finish in the same second into one --out: three whole,
# distinct sets, named in order, the newest of which plots.py finds.
mkdir -p "$tmp/same"
for seed in 1 2 3; do
  HEAPLAB_TEST_FIXED_TIME=1700000000 "$bench" --quick --workload=churn --allocator=pool \
    --seed=$seed --out="$tmp/same" >"$tmp/same.$seed.out" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]: -3}"; do wait "$p" || die "a same-second run exited $?"; done
ls -A "$tmp/same"
python3 - "$tmp/same" "$src" <<'PY' || fail=1
import csv, json, os, sys
d, src = sys.argv[1], sys.argv[2]
files = sorted(os.listdir(d))
stems = sorted(f[:-5] for f in files if f.endswith(".json"))
bad = []
want = sorted(f for s in stems for f in (s + ".json", s + ".csv", s + ".samples.csv"))
if len(stems) != 3 or files != want:
    bad.append("expected 3 complete sets, found %s" % files)
stamps = sorted(s.split("_")[0] for s in stems)
if len(set(stamps)) != 3 or [s[len(stamps[0]):] for s in stamps] != ["", "-2", "-3"]:
    bad.append("names do not count up within the second: %s" % stems)
seeds = set()
for s in stems:
    doc = json.load(open(os.path.join(d, s + ".json")))
    its = [r for r in doc["benchmarks"] if r.get("run_type") == "iteration"]
    seed = {r["seed"] for r in its}
    rows = list(csv.DictReader(open(os.path.join(d, s + ".csv"))))
    samples = list(csv.DictReader(open(os.path.join(d, s + ".samples.csv"))))
    if len(its) != 2 or len(seed) != 1 or any(r.get("error_occurred") for r in its):
        bad.append("%s: not one run's 2 cells: %s" % (s, [r["name"] for r in its]))
    if sorted(r["seed"] for r in rows) != sorted(str(r["seed"]) for r in its):
        bad.append("%s: the CSV is not its JSON's rows" % s)
    if not samples:
        bad.append("%s: no samples" % s)
    seeds |= seed
if seeds != {1, 2, 3}:
    bad.append("the sets hold seeds %s, expected each run's own" % sorted(seeds))
sys.path.insert(0, os.path.join(src, "scripts"))
import plots
newest = os.path.basename(plots.newest_json(d))
if stems and newest != max(stems, key=lambda s: int(s.split("_")[0][16:] or 1)) + ".json":
    bad.append("plots.py takes %s as the newest" % newest)
for b in bad: print("FAIL: same second: " + b)
sys.exit(1 if bad else 0)
PY

# A full disk: the write that fails leaves no file of the set (nor a
# temporary one) and says so in one line.  A 64 KiB file system, 8 KiB of it
# free (one cell's scratch file fits; the set of three files does not), is
# mounted in a user namespace of its own; where the kernel allows none, this
# part is skipped with a note.
mkdir -p "$tmp/disk"
if unshare -rm true 2>/dev/null; then
  unshare -rm sh -c 'mount -t tmpfs -o size=64k tmpfs "$1" && head -c 57344 /dev/zero >"$1/filler" &&
    "$2" --quick --workload=churn --allocator=pool --out="$1" >/dev/null 2>"$1.err"
    echo $? >"$1.rc"; ls -A "$1" >"$1.ls"' sh "$tmp/disk" "$bench"
  cat "$tmp/disk.err"
  [[ $(cat "$tmp/disk.rc") == 1 ]] || die "disk full: exit status $(cat "$tmp/disk.rc"), expected 1"
  [[ $(cat "$tmp/disk.ls") == filler ]] || die "disk full: files left: $(cat "$tmp/disk.ls")"
  [[ $(wc -l <"$tmp/disk.err") == 1 ]] && grep -q "No space left on device" "$tmp/disk.err" \
    || die "disk full: not one line naming the full disk"
else
  echo "note: disk-full check skipped: no user namespace to mount a small file system in"
fi

exit $fail
