#!/usr/bin/env bash
# cli_bad_input.sh BENCH - every bad command line gets exactly one line on
# stderr naming what was wrong, nothing on stdout, and exit status 2.
#
# Table: arguments (split on spaces) | a phrase the message must contain.
bench=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
cd "$tmp" || exit 1 # a relative --out in the table lands here

while IFS='|' read -r args phrase; do
  args=${args%% }; phrase=${phrase# }
  [[ -z $args || $args == \#* ]] && continue
  outarg=(--out="$tmp/out") # results never land in the tree, unless the row names --out
  [[ $args == *--out=* ]] && outarg=()
  # --out is a run's: the modes that run nothing refuse it
  [[ $args == *--compare* || $args == *--list* || $args == *--export-action* ]] && outarg=()
  # shellcheck disable=SC2086
  "$bench" "${outarg[@]}" $args >"$tmp/stdout" 2>"$tmp/stderr"
  check_refusal "$args" $? "$phrase"
done <<'TABLE'
--allocator=foo                 | unknown allocator 'foo'; valid: glibc, jemalloc, mimalloc, tcmalloc, pool, arena, all
--allocator=                    | --allocator: missing value
--allocator=pool,               | empty name
--allocator=,pool               | empty name
--allocator=pool,,glibc         | empty name
--allocator=POOL                | unknown allocator 'POOL'
--workload=nope                 | unknown workload 'nope'; valid: churn
--workload=                     | --workload: missing value
--collector=gc                  | unknown collector 'gc'
--collector=                    | --collector: missing value
--param                         | --param: missing value
--param ops                     | not NAME=VALUE
--param =5                      | not NAME=VALUE
--param ops=                    | --param ops: missing value
--param ops=abc                 | --param ops: 'abc' is not a whole number
--param ops=12x                 | is not a whole number
--param ops=-5                  | --param ops: -5 is out of range
--param ops=0                   | out of range for workload churn
--param live=99999999999999999999 | out of range
--param nosuch=1                | unknown parameter 'nosuch'
--param variant=                | missing variant name
--param variant=nope            | unknown variant 'nope'
--seed=x                        | --seed: 'x' is not a whole number
--seed=-1                       | --seed: -1 is out of range
--seed=                         | --seed: missing value
--seed                          | --seed: missing value
--repetitions=0                 | --repetitions: 0 is out of range
--repetitions=1001              | out of range; expected 1 to 1000
--repetitions=1.5               | not a whole number
--min-time=abc                  | --min-time: 'abc' is not a valid number of seconds
--min-time=-1                   | --min-time
--min-time=0                    | --min-time
--min-time=nan                  | --min-time
--sample-hz=0                   | --sample-hz: '0' is not a valid number of samples per second
--sample-hz=fast                | --sample-hz
--gc-threshold=700,10           | --gc-threshold: '700,10' is not three whole numbers
--gc-threshold=700,10,x         | --gc-threshold (generation 2): 'x' is not a whole number
--gc-threshold=-1,10,10         | out of range
--gc-long-lived=maybe           | --gc-long-lived: 'maybe' is not on or off
--timeout=0                     | --timeout: 0 is out of range
--timeout=ten                   | --timeout
--out=                          | --out: missing directory name
--out=/proc/heaplab-nope        | --out: cannot write results to /proc/heaplab-nope
--bogus                         | unknown option '--bogus'
--allocatr=pool                 | unknown option '--allocatr=pool'
-x                              | unknown option '-x'
stray                           | unexpected argument 'stray'
--run-cell                      | --run-cell needs --cell-out
--repetitions=99999999999999999999 | --repetitions: 99999999999999999999 is out of range
--repetitions=-3                | --repetitions: -3 is out of range
--timeout=                      | --timeout: missing value
--threads=                      | --threads: '' is not a list of thread counts
--threads=0                     | --threads: '0' is not a thread count
--threads=1,,2                  | --threads: '1,,2' is not a list of thread counts
--threads=two                   | --threads: 'two' is not a thread count
--workload=larson --threads=5000 | --threads=5000: out of range for workload larson; valid range 1..256 (as --list shows)
--workload=xmalloc --threads=1,200 | --threads=200: out of range for workload xmalloc; valid range 1..128
--workload=larson --param threads=300 | --param threads=300: out of range for workload larson; valid range 1..256
--shuffle=x                     | --shuffle: 'x' is not a whole number
--fail-alloc=0                  | --fail-alloc: 0 is out of range
--fail-alloc=-1                 | --fail-alloc: -1 is out of range
--fail-alloc=many               | --fail-alloc: 'many' is not a whole number
--mem-limit=                    | --mem-limit: '' is not a byte count
--mem-limit=10X                 | --mem-limit: '10X' is not a byte count
--mem-limit=-1                  | --mem-limit: '-1' is not a byte count
--mem-limit=99999999999G        | --mem-limit: '99999999999G' is not a byte count
--rlimit-as=1K                  | --rlimit-as: '1K' is not a byte count of at least 16777216
--duration=0                    | --duration: '0' is not a valid number of seconds
--duration=soon                 | --duration: 'soon' is not a valid number of seconds
--duration=5 --instructions     | --duration and --instructions do not go together
--decorate=fast                 | --decorate: unknown decorator 'fast'
--decorate=                     | --decorate: unknown decorator ''
--thresholds=                   | --thresholds: missing file name
--report=                       | --report: missing file name
--export-action=                | --export-action: missing file name
--compare                       | --compare needs two paths
--compare a b c                 | --compare needs two paths
--compare /nonexistent/a /nonexistent/b | cannot read /nonexistent/a
--out=/etc/passwd               | --out: cannot write results to /etc/passwd
--param ops=1 --param ops=x     | --param ops: 'x' is not a whole number
# No silent conflicts.  A repeat with the same text is accepted (cli_run.sh);
# one with other text is an error, for every option.
--quick --seed=1 --seed=2       | --seed given twice with different values ('1', then '2')
--quick --allocator=pool --allocator=glibc | --allocator given twice with different values
--quick --collector=manual --collector=cycle | --collector given twice
--quick --workload=churn --workload=cycles | --workload given twice
--quick --repetitions=1 --repetitions=3 | --repetitions given twice
--quick --timeout=5 --timeout=6 | --timeout given twice
--quick --out=a --out=b         | --out given twice
--quick --shuffle --shuffle=3   | --shuffle given twice with different values (no value, then '3')
--quick --workload=larson --threads=1 --threads=2 | --threads given twice
--quick --gc-threshold=1,2,3 --gc-threshold=700,10,10 | --gc-threshold given twice
--param ops=1 --param ops=2     | --param ops given twice with different values ('1', then '2')
--param variant=mixed --param variant=fixed64 | --param variant given twice
--stress --workload=churn       | --stress runs the stress workload: it does not go with --workload
--workload=churn --stress       | it does not go with --workload
--stress --compare a b          | --stress and --compare do not go together
--quick --threads=2             | --threads: workload(s) churn have no threads parameter; workloads with threads: larson
--quick --workload=larson,churn,cycles --threads=1,2 | --threads: workload(s) churn, cycles have no threads parameter
--quick --workload=all --threads=2 | have no threads parameter
--allocator=glibc,all           | --allocator: 'all' cannot be mixed with names in 'glibc,all'
--allocator=all,pool            | --allocator: 'all' cannot be mixed with names
--collector=cycle,all           | --collector: 'all' cannot be mixed with names
--workload=all,churn            | --workload: 'all' cannot be mixed with names
--workload=larson --param min=2000 | --param: min=2000 is larger than max=1000 for workload larson; min must not exceed max
--workload=larson --quick --param min=64 --param max=32 | min=64 is larger than max=32
--workload=xmalloc --param max=8 | --param: min=64 is larger than max=8 for workload xmalloc
--workload=mlarge --quick --param max_kib=100 | --param: min_kib=256 is larger than max_kib=100 for workload mlarge
--workload=larson,xmalloc --param min=100 --param max=50 | is larger than max=50
--thresholds=t.json             | --thresholds applies to --compare only
--report=r.md                   | --report applies to --compare only
--compare --thresholds=/nonexistent/t.json /nonexistent/a /nonexistent/b | --thresholds: cannot read /nonexistent/t.json
--compare --thresholds=/etc/passwd /nonexistent/a /nonexistent/b | --thresholds: /etc/passwd is not valid JSON
# Two options that each choose what bench does, or an option where it does not apply.
--list --compare a b            | --list and --compare do not go together
--compare a b --list            | --list and --compare do not go together
--list --export-action=o r      | --list and --export-action do not go together
--compare a b -- ls             | --compare does not go with -- PROGRAM
--list -- ls                    | --list does not go with -- PROGRAM
--program-stdout=o              | --program-stdout does not apply to a run; it goes with -- PROGRAM
--compare a b --seed=3          | --seed does not apply to --compare
--compare a b --quick           | --quick does not apply to --compare
--compare a b --allocator=pool  | --allocator does not apply to --compare
--compare a b --param ops=5     | --param does not apply to --compare
--compare a b --param variant=pairs | --param does not apply to --compare
--list --param variant=nope     | --param does not apply to --list
--export-action=o r --repetitions=2 | --repetitions does not apply to --export-action
--list --allocator=pool         | --allocator does not apply to --list
--seed=2 --list                 | --seed does not apply to --list
--verbose                       | --verbose does not apply to a run; it goes with --compare
--require-same-cells            | --require-same-cells does not apply to a run
--cell-out=x.json               | --cell-out does not apply to a run; it goes with --run-cell
--record=x.trace                | --record does not apply to a run; it goes with -- PROGRAM
--record=x.trace --compare a b  | --record does not apply to --compare
--record= -- true               | --record: missing file name
--record=t --allocator=jemalloc -- true | --record runs the program once, under glibc (the recorder passes each call on to glibc's malloc): it does not go with --allocator=jemalloc
--record=t --allocator=glibc,pool -- true | it does not go with --allocator=pool
--record=t --repetitions=2 -- true | --record runs the program once: it does not go with --repetitions=2
--record=/nonexistent-heaplab/t -- true | --record=/nonexistent-heaplab/t: cannot write beside it (No such file or directory)
--record=. -- true              | --record=.: not a file name
--workload=replay --param trace= | --param trace: missing value
--workload=replay --param trace=/nonexistent-heaplab | --param trace=/nonexistent-heaplab: cannot read it (No such file or directory); valid: a trace written by bench --record
--workload=replay --param trace=/etc/hostname | not a heaplab trace (it does not start with HLTRACE)
--workload=churn --param trace=x | unknown parameter 'trace' for the selected workloads
--workload=trees --heap-sweep=1,x | --heap-sweep: 'x' is not a heap factor: a number from 1 to 100
--workload=trees --heap-sweep=0.5 | --heap-sweep: '0.5' is not a heap factor
--workload=trees --heap-sweep=2,1.5 | --heap-sweep: factors must ascend, each once ('1.5' after 2)
--workload=trees --heap-sweep=1,2,2 | factors must ascend
--workload=trees --heap-sweep= | --heap-sweep: '' is not a list of at most 16 heap factors
--workload=trees --heap-sweep=1,,2 | is not a list of at most 16 heap factors
--heap-sweep                    | --heap-sweep: workload churn runs under none of the swept collectors; workloads that do: cycles
--workload=trees --heap-sweep --collector=refcount | --heap-sweep: collector refcount has no heap limit or threshold to sweep; valid: tracing, marksweep, cycle
--workload=trees --heap-sweep --instructions | --heap-sweep does not go with --instructions
--workload=trees --heap-sweep --duration=1 | --heap-sweep does not go with --duration
--workload=trees --heap-sweep --gc-threshold=700,10,10 | --heap-sweep does not go with --gc-threshold
--workload=trees --heap-sweep --mem-limit=1M | --heap-sweep does not go with --mem-limit
--workload=trees --heap-sweep=2 --heap-sweep=3 | --heap-sweep given twice with different values
--gc-heap-limit=1M              | --gc-heap-limit does not apply to a run; it goes with --run-cell
TABLE

# A repeat with the very same text is accepted (documented in options.c).
if ! "$bench" --seed=3 --seed=3 --quick --quick --workload=empty --workload=empty --allocator=pool \
    --param ops=1000 --param ops=1000 --out="$tmp/rep" >/dev/null 2>"$tmp/stderr"; then
  echo "FAIL [same-text repeats]: refused: $(cat "$tmp/stderr")"; fail=1
else
  echo "ok   [same-text repeats] accepted"
fi

# A range quoted in a message is the range --list prints, from one table.
for wp in larson:threads xmalloc:threads larson:min mlarge:max_kib; do
  w=${wp%%:*} p=${wp#*:}
  listed=$("$bench" --list | awk -v w="$w" -v p="$p" '
    $1 == w && NF > 2 { inw = 1; next } /^  [a-z]/ && $1 != w { inw = 0 }
    inw && $1 == p { if (match($0, /range [0-9]+\.\.[0-9]+/)) print substr($0, RSTART + 6, RLENGTH - 6); exit }')
  msg=$("$bench" --workload="$w" --param "$p=99999999999" 2>&1)
  if [[ -z $listed || $msg != *"valid range $listed "* ]]; then
    echo "FAIL [$w.$p range]: --list says '$listed', the message says: $msg"; fail=1
  else
    echo "ok   [$w.$p range] --list and the message agree: $listed"
  fi
done
exit $fail
