#!/usr/bin/env bash
# report_browser_test.sh BENCH | PLOTS_DIR - the HTML report reads in a browser.
#
# With BENCH (the heaplab executable) it makes a fresh quick run and draws it;
# with PLOTS_DIR it checks the report already there (its results file is the
# one the report names).  Headless Chromium loads report.html; the page's own
# check, run on the load event, marks #image-check with how many images
# decoded.  The test reads the DOM that Chromium dumps and checks that every
# image loaded, that the results table holds exactly the run's cells with
# their status and median ns/op, that the skipped cells are listed, and that
# the environment names the CPU and kernel.  As a control, the same page with
# one PNG removed must report that image broken.
#
# Needs Debian's chromium, python3 and (with BENCH) gnuplot-nox; exits 77
# (skipped) without Chromium.  Chromium runs with no sandbox (root in
# containers) and a throwaway profile.
set -u
arg=$1
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
die() { echo "FAIL: $*"; fail=1; }

browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[[ -n $browser ]] || { echo "SKIP: no Chromium (Debian: chromium)"; exit 77; }

if [[ -d $arg ]]; then
  dir=$(cd "$arg" && pwd)
else
  command -v gnuplot >/dev/null || { echo "SKIP: gnuplot is not installed (Debian: gnuplot-nox)"; exit 77; }
  "$arg" --quick --allocator=glibc,pool --workload=churn,cycles --collector=manual,marksweep,tracing \
    --repetitions=2 --out="$tmp/r" >"$tmp/run" 2>&1
  rc=$?
  if [[ $rc -gt 1 ]] || ! ls "$tmp"/r/*.json >/dev/null 2>&1; then
    cat "$tmp/run"; echo "FAIL: the quick run exited $rc and wrote no results"; exit 1
  fi
  dir=$tmp/plots
  python3 "$top/scripts/plots.py" "$tmp/r" --out "$dir" >"$tmp/plots.out" 2>&1 \
    || { cat "$tmp/plots.out"; echo "FAIL: plots.py exited non-zero"; exit 1; }
fi
[[ -f $dir/report.html ]] || { echo "FAIL: no report.html in $dir"; exit 1; }

# dom PAGE OUT: the page's DOM after its load event, as Chromium sees it.
dom() {
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d "$tmp/profile.XXXXXX")" --virtual-time-budget=10000 \
    --dump-dom "file://$1" >"$2" 2>"$2.stderr"
  local rc=$?
  [[ $rc -eq 0 && -s $2 ]] || { tail -5 "$2.stderr"; die "chromium exited $rc on $1"; return 1; }
}

dom "$dir/report.html" "$tmp/dom.html"
python3 - "$dir" "$tmp/dom.html" <<'PY' || fail=1
import html.parser, json, os, statistics, sys

plots_dir, dom_path = sys.argv[1], sys.argv[2]


class Page(html.parser.HTMLParser):
    """The parts of the report the test reads: the image marker, the <img>
    sources, each table's rows (attributes and cell texts), the results file."""

    def __init__(self):
        super().__init__()
        self.marker, self.images, self.rows, self.results = None, [], {}, None
        self.table, self.row, self.cell = None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.results = a.get("data-results")
        elif a.get("id") == "image-check":
            self.marker = a
        elif tag == "img":
            self.images.append(a.get("src"))
        elif tag == "table":
            self.table = a.get("id")
            self.rows[self.table] = []
        elif tag == "tr" and self.table:
            self.row = (a, [])
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row[1].append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows[self.table].append(self.row)
            self.row = None
        elif tag == "table":
            self.table = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


page = Page()
page.feed(open(dom_path, encoding="utf-8").read())
bad = []

# Every image decoded, as the page's own check saw it after loading.
m = page.marker or {}
if m.get("data-status") != "ok":
    bad.append("image check says %r (%s)" % (m.get("data-status"), m.get("data-broken")))
if not page.images:
    bad.append("the report shows no images")
elif m.get("data-images") != str(len(page.images)):
    bad.append("image check counted %s images, the page has %d" % (m.get("data-images"), len(page.images)))
for src in page.images:
    if not os.path.isfile(os.path.join(plots_dir, src)):
        bad.append("image %s is not in %s" % (src, plots_dir))

# The results table holds the run's cells: one row each, right status,
# ns/op the median over repetitions.
doc = json.load(open(os.path.join(plots_dir, page.results)))
cells = {}
for r in doc["benchmarks"]:
    if "workload" not in r:
        continue
    threads = r.get("threads", 1)
    for p in (r.get("params") or "").split(","):
        if threads == 1 and p.startswith("threads="):
            threads = int(p[len("threads="):])
    key = ("/".join((r["workload"], r["variant"], r["allocator"], r["collector"])), str(threads))
    c = cells.setdefault(key, {"failed": False, "runs": [], "median": None})
    if r.get("error_occurred"):
        c["failed"] = True
    elif r.get("run_type") == "aggregate":
        if r.get("aggregate_name") == "median":
            c["median"] = r.get("ns_per_op", r.get("real_time"))
    else:
        c["runs"].append(r["ns_per_op"])
rows = {(a.get("data-cell"), a.get("data-threads")): (a, texts)
        for a, texts in page.rows.get("results", []) if a.get("data-cell")}
if set(rows) != set(cells):
    bad.append("table cells differ from the JSON: missing %s, extra %s"
               % (sorted(set(cells) - set(rows))[:5], sorted(set(rows) - set(cells))[:5]))
head = [t for t in page.rows["results"][0][1]] if page.rows.get("results") else []
for key in set(rows) & set(cells):
    a, texts = rows[key]
    c = cells[key]
    status = texts[head.index("status")] if "status" in head else ""
    if c["failed"] != (a.get("class") == "failed") or c["failed"] != status.startswith("FAILED"):
        bad.append("%s: status %r, failed in JSON: %s" % (key[0], status, c["failed"]))
    if not c["failed"]:
        median = c["median"] if c["median"] is not None else statistics.median(c["runs"])
        shown = texts[head.index("ns/op")].split()[0]
        if shown != "%.2f" % median:
            bad.append("%s: ns/op %s, JSON median %.2f" % (key[0], shown, median))
skipped = {s["name"] for s in doc.get("skipped", [])}
listed = {a["data-cell"] for a, _ in page.rows.get("skipped", []) if a.get("data-cell")}
if skipped != listed:
    bad.append("skipped cells differ: missing %s, extra %s"
               % (sorted(skipped - listed)[:5], sorted(listed - skipped)[:5]))

# The environment names the machine.
env = {t[0]: t[1] for _, t in page.rows.get("environment", []) if len(t) == 2}
ctx = doc.get("context", {})
for label, key in (("CPU", "cpu_model"), ("kernel", "kernel"),
                   ("transparent huge pages", "transparent_hugepages")):
    if ctx.get(key) and ctx[key] not in env.get(label, ""):
        bad.append("environment %s shows %r, context has %r" % (label, env.get(label), ctx[key]))
for label in ("allocator versions", "heaplab", "date", "command line"):
    if label not in env:
        bad.append("environment lacks %s" % label)

for b in bad:
    print("FAIL: " + b)
if not bad:
    print("ok   report: %d images loaded, %d cells, %d skipped, environment shown"
          % (len(page.images), len(rows), len(listed)))
sys.exit(1 if bad else 0)
PY

# Control: the same page with one image gone must say so.
cp -r "$dir" "$tmp/broken"
pngs=("$tmp"/broken/*.png)
victim=$(basename "${pngs[0]}")
rm "$tmp/broken/$victim"
if dom "$tmp/broken/report.html" "$tmp/broken-dom.html"; then
  if grep -q 'id="image-check"[^>]*data-status="broken"' "$tmp/broken-dom.html" \
     && grep -q 'data-broken="1"' "$tmp/broken-dom.html"; then
    echo "ok   control: with $victim removed the page reports one broken image"
  else
    die "control: with $victim removed the page does not report it broken"
  fi
fi

[[ $fail -eq 0 ]] && echo "report: all checks passed"
exit $fail
