#!/usr/bin/env bash
# programs_test.sh BENCH TOP - the real-program suite (scripts/programs.py) at
# its smallest size, on the two programs that make test's dependencies
# install (sqlite3, lua5.4):
#
#  1. a clean run exits 0; bench's own rows (raw/NAME/*.json, read here, not
#     the suite's summary) hold one run per allocator and program, each
#     exiting 0 with preload_verified and its evidence naming the program's
#     own image (and, for a preloaded allocator, its library); every run's
#     stdout was kept and judged right; table.md has a row per program and
#     allocator marked proven and right; a plot per program;
#  2. a planted wrong expected answer for sqlite3 makes the suite fail
#     (exit 1), marks every sqlite3 run's output wrong and keeps their
#     stdout files, while lua5.4 stays right: the check really compares;
#  3. bad input: an unknown program, exit 2 and one line.
bench=$1
top=$2
. "$(dirname "$0")/lib.sh"
suite=("$top/scripts/programs.py" --size tiny --programs sqlite3,lua5.4 --bench "$bench")

# 1. a clean run ---------------------------------------------------------------
python3 "${suite[@]}" --out="$tmp/ok" >"$tmp/ok.out" 2>&1
rc=$?
cat "$tmp/ok.out"
[[ $rc -eq 0 ]] || die "clean run exited $rc, expected 0"
python3 - "$tmp/ok" <<'PY' || fail=1
import glob, json, os, sys
out, bad = sys.argv[1], []
allocators = ["glibc", "jemalloc", "mimalloc", "tcmalloc"]
images = {"sqlite3": os.path.realpath("/usr/bin/sqlite3"),
          "lua5.4": os.path.realpath("/usr/bin/lua5.4")}
summary = json.load(open(os.path.join(out, "summary.json")))
for name, image in images.items():
    files = glob.glob(os.path.join(out, "raw", name, "*.json"))
    if len(files) != 1:
        bad.append("%s: %d bench result files, expected 1" % (name, len(files)))
        continue
    rows = json.load(open(files[0]))["benchmarks"]
    if sorted(r["allocator"] for r in rows) != allocators:
        bad.append("%s: rows for %s" % (name, [r["allocator"] for r in rows]))
    for r in rows:
        a = r["allocator"]
        if r.get("error_occurred") or r.get("exit_status") != 0:
            bad.append("%s/%s: the run failed: %s" % (name, a, r.get("error_message")))
        if r.get("preload_verified") is not True:
            bad.append("%s/%s: allocator not verified: %s" % (name, a, r.get("preload_evidence")))
        ev = r.get("preload_evidence", "")
        if " in %s at the last check" % image not in ev:
            bad.append("%s/%s: the proof does not name %s: %s" % (name, a, image, ev))
        if a != "glibc" and "lib%s" % a not in r.get("preload_library", ""):
            bad.append("%s/%s: preloaded %s" % (name, a, r.get("preload_library")))
        if a != "glibc" and "lib%s" % a not in ev:
            bad.append("%s/%s: the proof does not name the library: %s" % (name, a, ev))
        if not r.get("stdout_file"):
            bad.append("%s/%s: no stdout_file in the row" % (name, a))
    prog = [p for p in summary["programs"] if p["name"] == name]
    if len(prog) != 1 or len(prog[0]["runs"]) != 4:
        bad.append("%s: summary.json lacks its four runs" % name)
        continue
    for run in prog[0]["runs"]:
        if not (run["proven"] and run["output_ok"] and run["ok"]):
            bad.append("%s/%s: judged %s" % (name, run["allocator"], run["problems"]))
    if not os.path.isfile(os.path.join(out, name + ".png")):
        bad.append("%s: no plot" % name)
table = open(os.path.join(out, "table.md")).read()
for name in images:
    for a in allocators:
        if "| %s | %s |" % (name, a) not in table:
            bad.append("table.md lacks %s under %s" % (name, a))
if "**NO**" in table or "**WRONG**" in table:
    bad.append("table.md marks a clean run as not proven or wrong")
for b in bad:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
PY

# 2. a wrong expected answer must fail -----------------------------------------
python3 "${suite[@]}" --out="$tmp/planted" --plant-wrong-answer=sqlite3 >"$tmp/planted.out" 2>&1
rc=$?
[[ $rc -eq 1 ]] || { cat "$tmp/planted.out"; die "a wrong expected answer exited $rc, expected 1"; }
grep -q 'FAILED: sqlite3 (see above' "$tmp/planted.out" \
  || { cat "$tmp/planted.out"; die "the failure does not name sqlite3 alone"; }
[[ $(grep -c 'sqlite3: wrong output' "$tmp/planted.out") -eq 4 ]] \
  || die "expected a wrong-output line for each of sqlite3's four runs"
[[ $(grep -c '^| sqlite3 | .* | \*\*WRONG\*\* |$' "$tmp/planted/table.md") -eq 4 ]] \
  || die "table.md does not mark sqlite3's output wrong under every allocator"
grep -q '^| lua5.4 | glibc | .* | yes | right |$' "$tmp/planted/table.md" \
  || die "lua5.4 should stay right"
[[ $(ls "$tmp/planted/work/sqlite3/stdout" 2>/dev/null | wc -l) -eq 4 ]] \
  || die "a failed check should keep the runs' stdout files"

# 3. bad input -----------------------------------------------------------------
python3 "$top/scripts/programs.py" --programs=nope --out="$tmp/bad" >"$tmp/stdout" 2>"$tmp/stderr"
check_refusal "--programs=nope" $? "unknown program 'nope'; valid: sqlite3"

exit $fail
