# lib.sh - sourced by the shell tests: unset variables are errors, a scratch
# directory ($tmp) is removed on exit, and die() records a failure and lets
# the script go on to report every other one.  The script exits $fail.
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
die() { echo "FAIL: $*"; fail=1; }
