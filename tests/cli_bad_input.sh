#!/usr/bin/env bash
# cli_bad_input.sh BENCH - every bad command line gets exactly one line on
# stderr naming what was wrong, nothing on stdout, and exit status 2.
#
# Table: arguments (split on spaces) | a phrase the message must contain.
set -u
bench=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

while IFS='|' read -r args phrase; do
  args=${args%% }; phrase=${phrase# }
  [[ -z $args || $args == \#* ]] && continue
  # shellcheck disable=SC2086
  "$bench" --out="$tmp/out" $args >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  lines=$(wc -l <"$tmp/stderr")
  if [[ $rc -ne 2 ]]; then
    echo "FAIL [$args]: exit $rc, expected 2"; fail=1
  elif [[ $lines -ne 1 ]]; then
    echo "FAIL [$args]: $lines lines on stderr, expected 1:"; cat "$tmp/stderr"; fail=1
  elif ! grep -qF -- "$phrase" "$tmp/stderr"; then
    echo "FAIL [$args]: message lacks '$phrase': $(cat "$tmp/stderr")"; fail=1
  elif [[ -s $tmp/stdout ]]; then
    echo "FAIL [$args]: wrote to stdout"; fail=1
  else
    echo "ok   [$args] -> $(cat "$tmp/stderr")"
  fi
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
--threads=0                     | --threads: 0 is out of range
--threads=1,,2                  | --threads: '1,,2' is not a list of thread counts
--threads=two                   | --threads: 'two' is not a whole number
--threads=5000                  | --threads: 5000 is out of range
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
TABLE
exit $fail
