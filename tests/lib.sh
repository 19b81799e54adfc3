# lib.sh - sourced by the shell tests: unset variables are errors, a scratch
# directory ($tmp) is removed on exit, and die() records a failure and lets
# the script go on to report every other one.  The script exits $fail.
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
die() { echo "FAIL: $*"; fail=1; }

# check_refusal LABEL RC PHRASE: judge a command line that must be refused,
# run with stdout in $tmp/stdout and stderr in $tmp/stderr and exit status
# RC: exit 2, exactly one line on stderr containing PHRASE, nothing on
# stdout.  Prints one ok or FAIL line; a failure sets fail=1.
check_refusal() {
  local label=$1 rc=$2 phrase=$3 lines
  lines=$(wc -l <"$tmp/stderr")
  if [[ $rc -ne 2 ]]; then
    echo "FAIL [$label]: exit $rc, expected 2"; fail=1
  elif [[ $lines -ne 1 ]]; then
    echo "FAIL [$label]: $lines lines on stderr, expected 1:"; cat "$tmp/stderr"; fail=1
  elif ! grep -qF -- "$phrase" "$tmp/stderr"; then
    echo "FAIL [$label]: message lacks '$phrase': $(cat "$tmp/stderr")"; fail=1
  elif [[ -s $tmp/stdout ]]; then
    echo "FAIL [$label]: wrote to stdout"; fail=1
  else
    echo "ok   [$label] -> $(cat "$tmp/stderr")"
  fi
}
