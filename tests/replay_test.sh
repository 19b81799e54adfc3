#!/usr/bin/env bash
# replay_test.sh BENCH [sanitized] - bench --record and --workload=replay
# (docs/replay.md), end to end.
#
#  1. record: python3 (PYTHONMALLOC=malloc, so every object is a malloc)
#     running an object-heavy script is recorded; the trace is whole (no raw
#     directory or temporary file left), at most 16 bytes per event, and
#     tests/trace_tool.py, a reader written from docs/trace-format.md alone,
#     validates it and computes its peak live bytes by decoding every event;
#  2. validation (issue 14, item 4): replayed under glibc, the replay's
#     tracked live peak (live_peak) and its wl_trace_live_peak_bytes both
#     equal that independent figure exactly, and its peak RSS is within 10%
#     of the program's.  RSS is compared as growth over a baseline measured
#     the same way on each side: the program's rss_peak minus that of
#     `python3 -c pass` (the interpreter without the script), and the
#     replay's rss_peak minus its rss_base (heaplab before the workload's
#     setup) minus wl_replay_table_bytes (the replay's own slot table);
#  3. determinism: the same checksum under glibc, pool and arena, and in the
#     dry variant;
#  4. fork and exec: a program that forks has its child recorded into a
#     trace of its own, FILE.<pid>-0, and bench says so; a program that
#     execs another has the new image recorded into FILE.<pid>-1;
#  5. bad traces: truncated, corrupted, a newer format version and zero
#     events each get one line and exit 2, and nothing is written;
#  (3c) the recorder's order holds under threads from the first event: a C
#     program's two threads' 1.2M calls, no number taken twice.
# With `sanitized` (a sanitizer build, which cannot preload the recorder into
# another program) only 3 (on the built-in trace) and 5 run.
bench=$(realpath "$1")
mode=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tool=$here/trace_tool.py
# The interpreter itself, not a wrapper script (pyenv's shims exec several
# processes, and the first image would be the shell's).
py=/usr/bin/python3
[[ -x $py ]] || py=$(python3 -c 'import sys; print(sys.executable)')
export PYTHONMALLOC=malloc
script='
import os
d = {}
for i in range(40000):
    d[i] = [str(i) * 3, (i, i + 1), {"k": i}]
blobs = [bytes(3000 + i % 700) for i in range(30000)]
del d
'

# row FILE JQ: one figure of the first iteration row of results file FILE.
row() { jq -r "[.benchmarks[] | select(.run_type == \"iteration\")][0] | $2" "$1"; }

if [[ $mode != sanitized ]]; then
  # -- 1. record ------------------------------------------------------------
  if ! "$bench" --out="$tmp/rec" --record="$tmp/py.trace" -- "$py" -c "$script" >"$tmp/rec.out" 2>&1; then
    die "record: bench --record failed: $(tail -3 "$tmp/rec.out")"
  fi
  ls "$tmp" | grep -q 'raw-\|tmp-' && die "record: a raw directory or temporary file was left: $(ls "$tmp")"
  stats=$(python3 "$tool" stats "$tmp/py.trace") || die "record: trace_tool rejects the trace"
  echo "trace: $stats"
  events=$(jq -r .events <<<"$stats")
  peak=$(jq -r .live_peak_decoded <<<"$stats")
  bpe=$(jq -r .bytes_per_event <<<"$stats")
  ((events > 100000)) || die "record: only $events events for an object-heavy script"
  awk -v b="$bpe" 'BEGIN { exit !(b <= 16) }' || die "record: $bpe bytes per event, above 16"
  [[ $(jq -r .live_peak_header <<<"$stats") == "$peak" ]] ||
    die "record: the header's live peak is not the decoded one ($peak)"
  grep -q "^record: $tmp/py.trace: $events events" "$tmp/rec.out" ||
    die "record: bench did not report the trace: $(grep record: "$tmp/rec.out")"
  [[ $(jq -r '.context.recorded_trace | "\(.events) \(.live_peak_bytes)"' "$tmp"/rec/*.json) == "$events $peak" ]] ||
    die "record: the results' context.recorded_trace does not hold $events events and live peak $peak"

  # -- 2. validation --------------------------------------------------------
  "$bench" --out="$tmp/rp" --workload=replay --param trace="$tmp/py.trace" --allocator=glibc,pool,arena \
    >"$tmp/rp.out" 2>&1 || die "replay failed: $(tail -3 "$tmp/rp.out")"
  for f in "$tmp"/rp/*.json; do
    jq -c '.benchmarks[] | select(.run_type == "iteration" and .allocator == "glibc" and .variant == "replay")' \
      "$f" >"$tmp/glibc.row"
  done
  live=$(jq -r .live_peak "$tmp/glibc.row"); wl=$(jq -r .wl_trace_live_peak_bytes "$tmp/glibc.row")
  [[ $live == "$peak" && $wl == "$peak" ]] &&
    echo "ok   live peak: replay tracked $live, wl_trace_live_peak_bytes $wl, decoded $peak" ||
    die "live peak: replay tracked $live, wl_trace_live_peak_bytes $wl, the trace decodes to $peak"
  "$bench" --out="$tmp/prog" -- "$py" -c "$script" >/dev/null 2>&1 || die "program run failed"
  "$bench" --out="$tmp/base" -- "$py" -c pass >/dev/null 2>&1 || die "baseline run failed"
  prog_rss=$(row "$tmp"/prog/*.json .rss_peak); base_rss=$(row "$tmp"/base/*.json .rss_peak)
  read -r rss rss_base table < <(jq -r '"\(.rss_peak) \(.rss_base) \(.wl_replay_table_bytes)"' "$tmp/glibc.row")
  awk -v p="$prog_rss" -v pb="$base_rss" -v r="$rss" -v rb="$rss_base" -v t="$table" 'BEGIN {
      want = p - pb; got = r - rb - t; d = (got - want) / want
      printf "%s   peak RSS growth: program %.1f MiB (%.1f - %.1f), replay %.1f MiB (%.1f - %.1f - table %.1f): %+.1f%%\n",
        (d <= 0.10 && d >= -0.10) ? "ok  " : "FAIL:", want / 1048576, p / 1048576, pb / 1048576,
        got / 1048576, r / 1048576, rb / 1048576, t / 1048576, 100 * d
      exit !(d <= 0.10 && d >= -0.10) }' || fail=1
  trace_arg=(--param trace="$tmp/py.trace") allocators=glibc,pool,arena
else
  trace_arg=() allocators=pool,arena # the sanitizer owns malloc: no glibc cell
fi

# -- 3. determinism ---------------------------------------------------------
"$bench" --out="$tmp/det" --workload=replay "${trace_arg[@]}" --allocator=$allocators --quick \
  >"$tmp/det.out" 2>&1 || die "replay failed: $(tail -3 "$tmp/det.out")"
sums=$(jq -r '.benchmarks[] | select(.run_type == "iteration") | .checksum' "$tmp"/det/*.json | sort -u)
cells=$(jq -r '.benchmarks[] | select(.run_type == "iteration") | .checksum' "$tmp"/det/*.json | wc -l)
[[ $cells -ge 4 && $(wc -l <<<"$sums") -eq 1 ]] &&
  echo "ok   one checksum ($sums) in $cells cells ($allocators; replay and dry)" ||
  die "checksums differ between cells: $(echo $sums)"

# -- 3b. threads: a producer and a consumer thread hand objects over (every
# object the consumer frees was allocated by the producer); the replay runs
# them as threads, waiting where the trace says, under a thread-safe
# allocator and under pool (serialised), with one checksum.
if [[ $mode != sanitized ]]; then
  mt_script='
import threading, queue
q = queue.Queue()
def producer():
    for i in range(5000):
        q.put([str(i)] * 5)
    q.put(None)
def consumer():
    while q.get() is not None:
        pass
ts = [threading.Thread(target=producer), threading.Thread(target=consumer)]
for t in ts: t.start()
for t in ts: t.join()
'
  "$bench" --out="$tmp/mtr" --record="$tmp/mt.trace" -- "$py" -c "$mt_script" >"$tmp/mtr.out" 2>&1 ||
    die "threads: bench --record failed: $(tail -3 "$tmp/mtr.out")"
  "$bench" --out="$tmp/mt" --workload=replay --param trace="$tmp/mt.trace" --allocator=glibc,pool \
    >"$tmp/mt.out" 2>&1 || die "threads: replay failed: $(tail -3 "$tmp/mt.out")"
  read -r threads waits < <(row "$tmp"/mt/*.json '"\(.wl_trace_threads) \(.wl_trace_cross_thread_events)"')
  sums=$(jq -r '.benchmarks[] | select(.run_type == "iteration") | .checksum' "$tmp"/mt/*.json | sort -u)
  [[ $threads -ge 3 && $waits -gt 0 && $(wc -l <<<"$sums") -eq 1 ]] &&
    echo "ok   threads: $threads recorded threads replayed with $waits cross-thread events, one checksum ($sums)" ||
    die "threads: $threads threads, $waits waits, checksums: $(echo $sums)"
fi

# -- 3c. the order under threads from the first event: a C program
# (tests/record_threads.c) runs two threads of 300,000 malloc/free pairs at
# once.  The recorder advances its counter by plain stores only until a
# second thread exists; bench rejects a recording in which a number appears
# twice, so two threads taking numbers by plain stores fail here.  Every call
# is in the trace (calls_seen counts the raw events).  What it cannot catch:
# the recorder's pthread_create not setting the flag, since each new thread
# sets it again at its first event and the collision that leaves is one
# number wide.
if [[ $mode != sanitized ]]; then
  cc -O1 -pthread -o "$tmp/record_threads" "$here/record_threads.c" ||
    die "order: cannot build tests/record_threads.c"
  "$bench" --out="$tmp/rt" --record="$tmp/rt.trace" -- "$tmp/record_threads" 2 300000 \
    >"$tmp/rt.out" 2>&1 || die "order: bench --record failed: $(tail -3 "$tmp/rt.out")"
  read -r seen rthreads < <(jq -r '.context.recorded_trace | "\(.calls_seen) \(.threads)"' "$tmp"/rt/*.json)
  [[ $seen -ge 1200000 && $rthreads -ge 2 ]] &&
    echo "ok   order: $seen calls from $rthreads threads at once, no number taken twice" ||
    die "order: $seen calls recorded from $rthreads threads, want >= 1200000 from >= 2"
fi

# -- 4. fork ------------------------------------------------------------------
if [[ $mode != sanitized ]]; then
  fork_script='
import os
x = [bytes(64) for _ in range(2000)]
pid = os.fork()
if pid == 0:
    y = [bytes(128) for _ in range(5000)]
    os._exit(0)
os.waitpid(pid, 0)
'
  "$bench" --out="$tmp/fk" --record="$tmp/fork.trace" -- "$py" -c "$fork_script" >"$tmp/fk.out" 2>&1 ||
    die "fork: bench --record failed: $(tail -3 "$tmp/fk.out")"
  children=("$tmp"/fork.trace.*-0)
  if [[ ${#children[@]} -ne 1 || ! -f ${children[0]} ]]; then
    die "fork: no trace of the child: $(ls "$tmp")"
  elif ! child=$(python3 "$tool" stats "${children[0]}") || (($(jq -r .events <<<"$child") < 5000)); then
    die "fork: the child's trace is not valid or lacks its 5000 allocations: $child"
  elif ! grep -q "other process image(s)" "$tmp/fk.out"; then
    die "fork: bench does not say that it recorded another process"
  else
    echo "ok   fork: the child recorded into $(basename "${children[0]}"): $(jq -r .events <<<"$child") events"
  fi
  # exec: the same pid becomes another program, whose trace is FILE.<pid>-1
  exec_script="
import os
x = [bytes(64) for _ in range(2000)]
os.execv('$py', ['python3', '-c', 'y = [bytes(32) for _ in range(7000)]'])
"
  "$bench" --out="$tmp/ex" --record="$tmp/exec.trace" -- "$py" -c "$exec_script" >"$tmp/ex.out" 2>&1 ||
    die "exec: bench --record failed: $(tail -3 "$tmp/ex.out")"
  images=("$tmp"/exec.trace.*-1)
  if [[ ! -f $tmp/exec.trace || ${#images[@]} -ne 1 || ! -f ${images[0]} ]]; then
    die "exec: expected exec.trace and one exec.trace.<pid>-1: $(ls "$tmp")"
  elif ! image=$(python3 "$tool" stats "${images[0]}") || (($(jq -r .events <<<"$image") < 7000)); then
    die "exec: the exec'd program's trace is not valid or lacks its 7000 allocations: $image"
  else
    echo "ok   exec: the exec'd program recorded into $(basename "${images[0]}"): $(jq -r .events <<<"$image") events"
  fi
fi

# -- 5. bad traces --------------------------------------------------------------
if [[ $mode == sanitized ]]; then # a valid trace to spoil, from the reader's own writer
  python3 - "$tmp/py.trace" <<'EOF'
import struct, sys
sys.path.insert(0, "")
stream = bytes([0x00, 0x10])  # malloc slot 0, size 16
blob = bytearray(struct.pack("<8sIIQQQQQQ", b"HLTRACE\0", 1, 1, 1, 1, 16, 16, len(stream), 0))
blob += struct.pack("<QQ", 1, len(stream)) + stream
h = 0xcbf29ce484222325
for b in bytes(blob[:56]) + bytes(blob[64:]):
    h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
struct.pack_into("<Q", blob, 56, h)
open(sys.argv[1], "wb").write(blob)
EOF
fi
while IFS='|' read -r kind phrase; do
  python3 "$tool" make-bad "$kind" "$tmp/py.trace" "$tmp/$kind.trace"
  "$bench" --out="$tmp/bad-$kind" --workload=replay --param trace="$tmp/$kind.trace" \
    >"$tmp/stdout" 2>"$tmp/stderr"
  check_refusal "$kind trace" $? "$phrase"
  [[ -e $tmp/bad-$kind ]] && die "$kind trace: something was written to --out"
done <<'TABLE'
truncated|truncated trace
corrupted|corrupted trace: its checksum does not match
newer|trace format version 2 is newer than this heaplab reads (versions 1 to 1)
empty|the trace holds zero events; valid: a trace of at least one allocation event
TABLE
exit $fail
