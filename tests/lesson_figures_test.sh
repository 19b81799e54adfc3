#!/usr/bin/env bash
# lesson_figures_test.sh BENCH [sanitized] - the lessons' memory figures are measured
# where the row says, through the real harness (one cell per process).
#
#   - fragmentation is present exactly when live_peak reaches the floor
#     (1 MiB, docs/metrics.md): genlist's generator stays below it and must
#     not show a ratio in the thousands; its list crosses it;
#   - genlist's memory_pass_wl_peak_live_bytes is the row's live_peak (the tracker's);
#   - slots' memory_pass_wl_bytes_per_object is present and its population fits within
#     live_peak; the dict instance takes more than the slotted one;
#   - the pool's and the arena's alloc_resident_bytes are resident pages,
#     not address space: below alloc_mapped_bytes when arenas or chunks are
#     partly touched, and external waste is counted from them;
#   - fragadv's drain (finish) raises no peak of its own: its page count's
#     scratch comes after its tables are gone, so rss_peak_drain stays at or
#     under rss_peak_run (the scratch had made the pool's peak ~3 MiB).
#     Not with `sanitized`: ASan's quarantine keeps the freed large objects
#     resident, so the drain's frees give back nothing for the scratch.
bench=$1
sanitized=${2:-}
. "$(dirname "$0")/lib.sh"

cells=(
  "genlist generator refcount pool"
  "genlist list refcount pool"
  "slots slots refcount pool"
  "slots dict refcount pool"
  "churn mixed manual arena"
  "fragadv default manual pool"
)
for cell in "${cells[@]}"; do
  read -r w v c a <<<"$cell"
  # fragadv at its defaults (0.3 s): at --quick sizes the large objects'
  # frees return more than the scratch takes, and the drain would hide it.
  quick=--quick; [[ $w == fragadv ]] && quick=
  if ! "$bench" --run-cell $quick --workload="$w" --param variant="$v" --collector="$c" \
      --allocator="$a" --cell-out="$tmp/$w-$v-$a.json" --sample-hz=10 >/dev/null 2>"$tmp/err"; then
    echo "FAIL: $w/$v/$a/$c did not run:"; tail -5 "$tmp/err"; fail=1
  fi
done
[[ $fail -eq 0 ]] || exit 1

python3 - "$tmp" "$sanitized" <<'PY' || fail=1
import json, os, sys
FLOOR = 1 << 20  # HL_FRAGMENTATION_MIN_LIVE in harness/cell.c
d = sys.argv[1]
def row(name):
    return json.load(open(os.path.join(d, name + ".json")))["benchmarks"][0]
bad = []
rows = {n[:-5]: row(n[:-5]) for n in os.listdir(d) if n.endswith(".json")}
for name, r in rows.items():
    live = r.get("live_peak")
    if live is None:
        bad.append("%s: no live_peak" % name)
        continue
    if live < FLOOR and "fragmentation" in r:
        bad.append("%s: fragmentation %s with live_peak %d below the %d floor"
                   % (name, r["fragmentation"], live, FLOOR))
    if live >= FLOOR and "fragmentation" not in r:
        bad.append("%s: no fragmentation with live_peak %d above the floor" % (name, live))
gen, lst = rows["genlist-generator-pool"], rows["genlist-list-pool"]
if gen["live_peak"] >= FLOOR or lst["live_peak"] < FLOOR:
    bad.append("test premise: generator live_peak %d should be below and list's %d above %d"
               % (gen["live_peak"], lst["live_peak"], FLOOR))
for r in (gen, lst):
    if r.get("memory_pass_wl_peak_live_bytes") != r["live_peak"]:
        bad.append("%s: memory_pass_wl_peak_live_bytes %s != live_peak %s"
                   % (r["name"], r.get("memory_pass_wl_peak_live_bytes"), r["live_peak"]))
sl, dc = rows["slots-slots-pool"], rows["slots-dict-pool"]
for r in (sl, dc):
    b = r.get("memory_pass_wl_bytes_per_object")
    if b is None:
        bad.append("%s: no memory_pass_wl_bytes_per_object" % r["name"])
    elif b * r["wl_objects"] > r["live_peak"]:
        bad.append("%s: %g bytes x %d objects exceed live_peak %d"
                   % (r["name"], b, r["wl_objects"], r["live_peak"]))
if sl.get("memory_pass_wl_bytes_per_object", 0) >= dc.get("memory_pass_wl_bytes_per_object", 0):
    bad.append("slots' bytes per object %s not below dict's %s"
               % (sl.get("memory_pass_wl_bytes_per_object"), dc.get("memory_pass_wl_bytes_per_object")))
for name in ("genlist-generator-pool", "churn-mixed-arena"):
    r = rows[name]
    res, mapped = r.get("alloc_resident_bytes"), r.get("alloc_mapped_bytes")
    if res is None or mapped is None:
        bad.append("%s: resident or mapped bytes missing" % name)
        continue
    # The generator's pool touches a few pages of one 1 MiB arena; the
    # arena's newest chunk is only partly used.
    if not 0 < res < mapped:
        bad.append("%s: resident %s not between 0 and mapped %s" % (name, res, mapped))
fa = rows["fragadv-default-pool"]
if sys.argv[2] == "sanitized":
    print("skip fragadv drain peak: ASan's quarantine keeps freed blocks resident")
elif not 0 < fa.get("rss_peak_drain", 0) <= fa.get("rss_peak_run", 0):
    bad.append("fragadv: the drain's peak %s is above the run's %s (the workload's own scratch)"
               % (fa.get("rss_peak_drain"), fa.get("rss_peak_run")))
else:
    print("ok   fragadv drain peak %d <= run peak %d" % (fa["rss_peak_drain"], fa["rss_peak_run"]))
print("ok   fragmentation floor, genlist peak, slots bytes, resident stats: %s"
      % ", ".join("%s live_peak %d frag %s" % (n, r["live_peak"], r.get("fragmentation"))
                  for n, r in sorted(rows.items())))
if bad:
    print("FAIL:\n  " + "\n  ".join(bad))
    sys.exit(1)
PY
exit $fail
