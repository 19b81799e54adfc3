#!/usr/bin/env python3
"""plots.py - turn one heaplab run into plots (PNG and SVG) and an HTML report.

    scripts/plots.py [--out DIR] [RESULTS]

RESULTS is a results file (the run's .json; its .csv or .samples.csv name the
same run) or a directory, whose newest *.json is taken (newest by the
timestamp that opens bench's file names and its -N, then by modification
time).  The
default is results/ at the top of the tree, and DIR defaults to plots/.

What is drawn, and from what (docs/plots.md says how to read each one):

    throughput.*     ns per operation for each workload and strategy (bars)
    program_time.*   wall seconds per run of a program run (bench -- PROGRAM)
    fragmentation.*  (rss_peak - rss_base) / live_peak per strategy (bars)
    memory_W_V.*     RSS and live bytes over time, from <stem>.samples.csv
    gc_pauses.*      GC pause p50 / p99 / max per cell that paused
    scaling_W_V.*    operations per second against threads
    latency_W_V.*    1 - CDF of alloc and free latency, log-log (--latency)
    mmu_W.*          minimum mutator utilisation against window length
    soak_W_V.*       a --duration soak: RSS per live byte, and RSS beyond it
    report.html      a summary (best allocators, pause p99s), the plots, one
                     row per cell, and the run's environment

The stress workload is a correctness check, not a benchmark: its cells are
in the report's table, never in a plot.  A --quick run's plots carry a
SMOKE RUN banner.

Python's standard library reads the results and writes, for each plot, a
data file and a file of gnuplot variables into a temporary directory; the
gnuplot scripts in plots/ (common.gp and one per kind of plot) draw them.
A plot whose data the run does not have is skipped with a note, on the
console and in the report.

HEAPLAB_PLOTS_WORK=DIR keeps the data and variable files in DIR, so that one
plot can be redrawn by hand: gnuplot DIR/STEM.png.gp plots/common.gp plots/KIND.gp

Exit status: 0 done; 1 gnuplot missing or failing; 2 no results to plot or a
bad command line.
"""

import argparse
import csv
import html
import json
import math
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import OrderedDict

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(TOP, "plots")
FORMATS = ("png", "svg")

# Files this script writes into the output directory; anything else there
# (the gnuplot scripts, README.md) is never touched.
GENERATED = re.compile(r"^(throughput|program_time|fragmentation|gc_pauses|"
                       r"(memory|scaling|latency|mmu|soak|heapsweep)_[A-Za-z0-9._-]+)"
                       r"\.(png|svg)$|^report\.html$")

# One colour per allocator and per collector, the same in every plot.
ALLOCATOR_COLORS = OrderedDict([
    ("glibc", "#1f77b4"), ("jemalloc", "#d62728"), ("mimalloc", "#2ca02c"),
    ("tcmalloc", "#ff7f0e"), ("pool", "#9467bd"), ("arena", "#8c564b"),
])
COLLECTOR_COLORS = OrderedDict([
    ("manual", "#555555"), ("refcount", "#1b9e77"), ("cycle", "#d95f02"),
    ("tracing", "#7570b3"), ("marksweep", "#e7298a"),
])
SPARE_COLORS = ("#17becf", "#bcbd22", "#e377c2", "#7f7f7f", "#393b79", "#637939")

# heaplab's timing figures and the Google Benchmark fields they equal.
GB_NAMES = {"ns_per_op": "real_time", "ops_per_sec": "items_per_second"}

# bench's file names open with the time, then "-N" when runs met in a second.
STAMP = re.compile(r"^(\d{8}-\d{6})(?:-(\d+))?_")


class NoResults(Exception):
    """Nothing to plot: the message is the one line the user sees."""


# ------------------------------------------------------------- finding -- #

def shown(path):
    """A path as the user would write it: relative below the current
    directory, absolute elsewhere."""
    rel = os.path.relpath(path)
    return rel if not rel.startswith("..") else os.path.abspath(path)


def newest_json(directory):
    """The newest results document in directory, or None."""
    found = []
    for entry in os.scandir(directory):
        if entry.is_file() and entry.name.endswith(".json"):
            stamp = STAMP.match(entry.name)
            found.append((stamp.group(1) if stamp else "", int(stamp.group(2) or 1) if stamp else 0,
                          entry.stat().st_mtime, entry.path))
    return max(found)[3] if found else None


def find_results(path):
    """The .json that path names (a file of the run, or a directory)."""
    if os.path.isdir(path):
        found = newest_json(path)
        if found is None:
            raise NoResults("no results in %s (no *.json there; run ./bench first)" % shown(path))
        return found
    for suffix in (".samples.csv", ".csv"):
        if path.endswith(suffix):
            path = path[: -len(suffix)] + ".json"
            break
    if not os.path.isfile(path):
        raise NoResults("no results file %s" % shown(path))
    return path


# ------------------------------------------------------------- reading -- #

def params_without_threads(params):
    return ",".join(p for p in (params or "").split(",") if p and not p.startswith("threads="))


def thread_count(row):
    """Threads of a row: Google Benchmark's count, else the workload's parameter."""
    n = row.get("threads") or 1
    if n > 1:
        return int(n)
    for p in (row.get("params") or "").split(","):
        if p.startswith("threads="):
            try:
                return int(p[len("threads="):])
            except ValueError:
                pass
    return 1


class Cell:
    """One cell of the matrix with its rows: repetitions and aggregates."""

    def __init__(self, workload, variant, allocator, collector, params="", threads=1,
                 heap_factor=None, gc_threshold0=None):
        self.workload, self.variant = workload, variant
        # a --heap-sweep point: its multiple of the minimum heap, or cycle's threshold
        self.heap_factor, self.gc_threshold0 = heap_factor, gc_threshold0
        self.allocator, self.collector = allocator, collector
        self.params, self.threads = params, threads
        self.runs = []         # iteration rows that succeeded
        self.aggregates = {}   # aggregate_name -> row
        self.error = None      # error_message of a failed (or interrupted) cell
        self.interrupted = False  # the run was stopped before the cell finished
        self.skipped = None    # why the matrix did not run it
        self.full_name = None  # the matrix's name of a skipped cell

    @property
    def ok(self):
        return self.error is None and self.skipped is None and bool(self.runs)

    @property
    def status(self):
        if self.skipped is not None:
            return "skipped: " + self.skipped
        if self.error is not None:
            return self.error if self.interrupted else "FAILED: " + self.error
        return "ok" if self.runs else "no rows"

    @property
    def name(self):
        name = "/".join((self.workload, self.variant, self.allocator, self.collector))
        if self.heap_factor is not None:
            name += "/heap:%gx" % self.heap_factor
        elif self.gc_threshold0 is not None:
            name += "/gc0:%d" % self.gc_threshold0
        return name

    @property
    def sweep_point(self):
        """Whether the cell is a --heap-sweep point (heapsweep_* plots only)."""
        return self.heap_factor is not None or self.gc_threshold0 is not None

    def figure(self, key):
        """A memory-pass figure: the same in every repetition; None if absent."""
        for row in self.runs:
            if isinstance(row.get(key), (int, float)):
                return row[key]
        return None

    def timing(self, key):
        """(median, low, high) of a timing figure over the repetitions.

        The median is Google Benchmark's median row when the run has one;
        low and high are the extremes of the repetitions (equal to the median
        with one repetition)."""
        values = [row[key] for row in self.runs if isinstance(row.get(key), (int, float))]
        if not values:
            return None
        median = self.aggregate("median", key)
        if median is None:
            median = statistics.median(values)
        return median, min(values), max(values)

    def aggregate(self, name, key):
        """A figure of Google Benchmark's aggregate row, or None.  A row may
        carry a timing figure only under Google Benchmark's own name."""
        row = self.aggregates.get(name, {})
        for k in (key, GB_NAMES.get(key)):
            ns = k != "real_time" or row.get("time_unit") == "ns"
            if isinstance(row.get(k), (int, float)) and ns:
                return row[k]
        return None


def load_run(json_path):
    """The run's context and its cells in matrix order."""
    try:
        with open(json_path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        raise NoResults("cannot read %s: %s" % (json_path, e))
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list):
        raise NoResults("%s is not a results document (no benchmarks array)" % json_path)
    cells = OrderedDict()
    for row in doc["benchmarks"]:
        if not isinstance(row, dict) or "workload" not in row:
            continue
        key = (row["workload"], row.get("variant", ""), row.get("allocator", ""),
               row.get("collector", ""), row.get("params", ""), thread_count(row),
               row.get("heap_factor"), row.get("gc_threshold0"))
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = Cell(*key)
        if row.get("error_occurred"):
            cell.error = row.get("error_message") or "failed"
            cell.interrupted = row.get("interrupted") is True
        elif row.get("run_type") == "aggregate":
            cell.aggregates[row.get("aggregate_name", "")] = row
        else:
            cell.runs.append(row)
    for s in doc.get("skipped") or []:
        cell = skipped_cell(s)
        if cell is not None:
            cells[(cell.full_name, "skipped")] = cell
    if not cells:
        raise NoResults("no result rows in %s" % json_path)
    return doc.get("context") or {}, list(cells.values())


def skipped_cell(entry):
    """A cell the matrix did not run, from its "skipped" entry: the name is
    workload/variant/allocator/collector, with /threads:N when the run swept
    threads.  None for a name of another shape."""
    name = entry.get("name") or ""
    parts = name.split("/")
    threads = 1
    if len(parts) == 5 and parts[4].startswith("threads:") and parts[4][8:].isdigit():
        threads = int(parts[4][8:])
        parts = parts[:4]
    if len(parts) != 4:
        return None
    cell = Cell(*parts, threads=threads)
    cell.skipped = entry.get("reason") or "skipped"
    cell.full_name = name
    return cell


def load_samples(json_path):
    """Memory samples beside the results, as (rows, note); rows None when absent."""
    path = json_path[: -len(".json")] + ".samples.csv"
    if not os.path.isfile(path):
        return None, "no %s beside the results" % os.path.basename(path)
    rows = []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        need = {"name", "workload", "variant", "allocator", "collector", "t_s", "rss_bytes"}
        if not need <= set(reader.fieldnames or ()):
            return None, "%s lacks columns %s" % (os.path.basename(path),
                                                  ", ".join(sorted(need - set(reader.fieldnames or ()))))
        for r in reader:
            try:
                t = float(r["t_s"])
            except (TypeError, ValueError):
                continue
            r["t_s"] = t
            r["rss_bytes"] = number_or_none(r.get("rss_bytes"))
            r["live_bytes"] = number_or_none(r.get("live_bytes"))
            rows.append(r)
    if not rows:
        return None, "%s holds no samples" % os.path.basename(path)
    return rows, None


def number_or_none(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


# -------------------------------------------------------------- layout -- #

def color_for(name, table, used):
    """A stable colour: the table's, else the next spare one."""
    if name in table:
        return table[name]
    if name not in used:
        used[name] = SPARE_COLORS[len(used) % len(SPARE_COLORS)]
    return used[name]


class Layout:
    """Cells placed as grouped bars: one panel per workload (each with its own
    y axis: an operation of one workload is not an operation of another),
    groups of bars along x, one series (one colour) per strategy.

    A strategy is an (allocator, collector) pair.  With one collector in the
    run the series are allocators and the collector goes in the subtitle;
    with one allocator the series are collectors; with both varying the
    series are allocators and a group is one variant under one collector, so
    that a colour always means one allocator."""

    def __init__(self, cells):
        allocators = list(OrderedDict.fromkeys(c.allocator for c in cells))
        collectors = list(OrderedDict.fromkeys(c.collector for c in cells))
        self.xlabel = "variant"
        if len(collectors) == 1:
            series_of, group_of = (lambda c: c.allocator), (lambda c: (c.variant,))
            # A program run has no collector ("-"): nothing to name.
            self.note = "collector: %s" % collectors[0] if collectors[0] != "-" else ""
            colors, self.series_kind = ALLOCATOR_COLORS, "allocator"
        elif len(allocators) == 1:
            series_of, group_of = (lambda c: c.collector), (lambda c: (c.variant,))
            self.note = "allocator: %s" % allocators[0]
            colors, self.series_kind = COLLECTOR_COLORS, "collector"
        else:
            series_of, group_of = (lambda c: c.allocator), (lambda c: (c.variant, c.collector))
            self.note = ""
            self.xlabel = "variant / collector"
            colors, self.series_kind = ALLOCATOR_COLORS, "allocator"
        # Several parameter sets, or thread counts, for one workload and
        # variant get a group each: every cell that ran has its bar.
        params, threads = {}, {}
        for c in cells:
            params.setdefault((c.workload, c.variant), set()).add(params_without_threads(c.params))
            threads.setdefault((c.workload, c.variant), set()).add(c.threads)
        several = {k for k, v in params.items() if len(v) > 1}
        swept = {k for k, v in threads.items() if len(v) > 1}
        if several:
            self.xlabel += " / parameters"
        if swept:
            self.xlabel += " / threads"

        self.panels = OrderedDict()  # workload -> {(group, series): cell}
        for c in sorted(cells, key=lambda c: c.threads):
            group = group_of(c)
            if (c.workload, c.variant) in several:
                group += (params_without_threads(c.params),)
            if (c.workload, c.variant) in swept:
                group += ("%d thread%s" % (c.threads, "" if c.threads == 1 else "s"),)
            self.panels.setdefault(c.workload, OrderedDict())[(group, series_of(c))] = c
        # Groups in the run's order of variants, thread counts ascending.
        order = {k: i for i, k in enumerate(OrderedDict.fromkeys((c.workload, c.variant) for c in cells))}
        for w, placed in self.panels.items():
            self.panels[w] = OrderedDict(sorted(placed.items(), key=lambda kv: (
                order[(kv[1].workload, kv[1].variant)], kv[1].threads)))
        self.series = list(OrderedDict.fromkeys(series_of(c) for c in cells))
        spare = {}
        self.series_colors = [color_for(s, colors, spare) for s in self.series]

    def groups(self, workload):
        return list(OrderedDict.fromkeys(g for g, _ in self.panels[workload]))

    def position(self, group_index, series_index):
        """x of a bar's centre and its half width: a strategy keeps its slot
        in every group, so that bars line up by colour."""
        width = 0.8 / len(self.series)
        return group_index - 0.4 + width * (series_index + 0.5), width / 2

    def blocks(self, row_of):
        """Data for the gnuplot scripts: one block per panel and series that
        has cells.  row_of(cell, x, half_width) gives (data line, [values])
        or None.  Returns the variables that describe the blocks and, per
        panel, the values drawn (for its axis range)."""
        text, block_series, first, count, values = [], [], [], [], []
        for workload, cells in self.panels.items():
            groups = self.groups(workload)
            first.append(len(text) + 1)
            values.append([])
            for si, series in enumerate(self.series):
                lines = []
                for gi, group in enumerate(groups):
                    cell = cells.get((group, series))
                    row = row_of(cell, *self.position(gi, si)) if cell else None
                    if row is not None:
                        lines.append(row[0])
                        values[-1].extend(v for v in row[1] if v is not None)
                if lines:
                    text.append("".join(lines))
                    block_series.append(si + 1)
            count.append(len(text) + 1 - first[-1])
        variables = OrderedDict(
            block_series=block_series, panel_first=first, panel_count=count,
            panel_title=["workload: %s" % w for w in self.panels],
            panel_xmax=[len(self.groups(w)) - 0.4 for w in self.panels],
            panel_xtics=["set xtics (%s)" % ", ".join('"%s" %d' % (gp_escape("\n".join(g)), i)
                                                     for i, g in enumerate(self.groups(w)))
                         for w in self.panels],
            panel_rotate=[int(len(self.groups(w)) > 14) for w in self.panels],
            series_title=self.series, series_color=self.series_colors, keytitle=self.series_kind,
            xlabel=self.xlabel, subtitle=self.note, ncols=self.columns())
        return "\n\n".join(text) + "\n", variables, values

    def panel_width(self, per_bar):
        """Pixels the busiest panel's bars need."""
        per_group = max(100, per_bar * len(self.series) + 30)
        return per_group * max(len(self.groups(w)) for w in self.panels)

    def columns(self, per_bar=14):
        """Panels side by side: one column up to four panels, else a grid
        (three columns of narrow panels, two of wide ones), so that a run of
        every workload is a page, not a stack a dozen panels tall."""
        n = len(self.panels)
        if n <= 4:
            return 1
        return 3 if self.panel_width(per_bar) <= 420 else 2

    def size(self, per_bar=14, panel_height=330):
        """Pixels: wide enough for the busiest panel in each column, tall
        enough for every row of panels."""
        cols = self.columns(per_bar)
        rows = -(-len(self.panels) // cols)
        width = max(1000, 165 + 265 + cols * (self.panel_width(per_bar) + 130))
        return width, max(560, 90 + panel_height * rows)


def axis_range(values, log_allowed=True, headroom=1.2):
    """(logy, bottom, top) for values drawn from the axis up.

    Log when every value is positive and they span more than a factor 20."""
    values = [v for v in values if v is not None and math.isfinite(v)]
    if not values:
        return 0, 0, 1
    lo, hi = min(values), max(values)
    if log_allowed and lo > 0 and hi / lo > 20:
        return 1, lo / 1.6, hi * (headroom ** 3)
    return 0, min(0, lo * 1.1), hi * headroom if hi > 0 else 1


def short_number(v):
    if v is None:
        return ""
    a = abs(v)
    if a >= 1e5:
        return "%.3g" % v
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    return "%.2f" % v


def slug(text):
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "x"


# ------------------------------------------------------------- gnuplot -- #

def gp_escape(text):
    return str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def gp_value(v):
    if isinstance(v, str):
        return '"%s"' % gp_escape(v)
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else "NaN"
    raise TypeError(v)


def gp_variables(values):
    """gnuplot source defining values: scalars, and lists as arrays."""
    lines = []
    for name, v in values.items():
        if isinstance(v, (list, tuple)):
            lines.append("array %s[%d] = [%s]" % (name, max(1, len(v)),
                                                  ", ".join(gp_value(x) for x in v) or '""'))
        else:
            lines.append("%s = %s" % (name, gp_value(v)))
    return "\n".join(lines) + "\n"


def data_line(*fields):
    out = []
    for f in fields:
        if f is None or (isinstance(f, float) and not math.isfinite(f)):
            out.append("NaN")
        elif isinstance(f, str):
            out.append('"%s"' % f.replace('"', "'"))
        else:
            out.append(repr(float(f)))
    return " ".join(out) + "\n"


class Renderer:
    """Runs one gnuplot script per plot and format; remembers what it wrote."""

    def __init__(self, out_dir, work_dir, banner=""):
        self.out_dir, self.work_dir = out_dir, work_dir
        self.banner = banner  # printed at the foot of every plot ("" for none)
        self.written = []     # (stem, caption) of each plot, in report order
        self.notes = []       # why a plot was skipped
        self.gnuplot = shutil.which("gnuplot")

    def skip(self, what, why):
        self.notes.append("%s: skipped, %s" % (what, why))

    def render(self, script, stem, caption, data, variables, width, height):
        data_path = os.path.join(self.work_dir, stem + ".dat")
        with open(data_path, "w") as f:
            f.write(data)
        for fmt in FORMATS:
            out = os.path.join(self.out_dir, "%s.%s" % (stem, fmt))
            settings = OrderedDict(fmt=fmt, out=out, width=width, height=height, data=data_path,
                                   banner=self.banner)
            settings.update(variables)
            vars_path = os.path.join(self.work_dir, "%s.%s.gp" % (stem, fmt))
            with open(vars_path, "w") as f:
                f.write(gp_variables(settings))
            cmd = [self.gnuplot, vars_path, os.path.join(SCRIPTS, "common.gp"),
                   os.path.join(SCRIPTS, script)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0 or not os.path.isfile(out) or os.path.getsize(out) == 0:
                tail = proc.stderr.strip().splitlines()[-3:]
                raise RuntimeError("gnuplot failed on %s.%s: %s" % (stem, fmt, " | ".join(tail)))
            for line in proc.stderr.strip().splitlines():
                print("plots: gnuplot (%s): %s" % (stem, line.strip()), file=sys.stderr)
            print("plots: wrote %s" % shown(out))
        self.written.append((stem, caption))


# --------------------------------------------------------------- plots -- #

def panel_ranges(values, headroom, refline=None, always_log=False):
    """Per-panel y axes: logy, bottom and top arrays for the gnuplot scripts."""
    logy, bottom, top, tics, base = [], [], [], [], []
    for v in values:
        v = v + ([refline] if refline is not None else [])
        lg, lo, hi = axis_range(v, headroom=headroom)
        if always_log and not lg and v and min(v) > 0:
            lg, lo, hi = 1, min(v) / 1.6, max(v) * headroom ** 3
        logy.append(lg)
        bottom.append(float(lo))
        top.append(float(hi))
        tics.append(log_tics(lo, hi) if lg else "set ytics autofreq")
        base.append(float(lo) if lg else 0.0)
    return OrderedDict(panel_logy=logy, panel_ybase=bottom, panel_ytop=top, panel_ytics=tics,
                       panel_barbase=base)


def log_tics(lo, hi):
    """Labelled tics for a log axis: decades, or 1-2-5 steps when the axis
    spans less than three decades (gnuplot would label one tic, or none)."""
    if hi / lo >= 1000:
        return "set ytics autofreq"
    tics = [m * 10 ** e for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
            for m in (1, 2, 5) if lo <= m * 10 ** e <= hi]
    return "set ytics (%s)" % ", ".join('"%g" %r' % (t, t) for t in tics)


def bar_chart(r, layout, stem, caption, title, ylabel, value, refline=None, refnote=""):
    """Grouped bars.  value(cell) gives (value, low, high) or None; low and
    high draw a whisker when they differ."""
    whiskers = []

    def row(cell, x, half):
        v = value(cell)
        if v is None or v[0] is None:
            return None
        whiskers.append(v[1] != v[2])
        return data_line(x, v[0], v[1], v[2], x - half, x + half, short_number(v[0])), list(v)
    data, variables, values = layout.blocks(row)
    most = max(sum(1 for _ in cells) for cells in layout.panels.values())
    variables.update(panel_ranges(values, 1.25, refline))
    variables.update(
        title=title, ylabel=ylabel, whiskers=int(any(whiskers)), labels=int(most <= 60),
        refline=float(refline) if refline is not None else float("nan"), refnote=refnote)
    width, height = layout.size()
    r.render("bars.gp", stem, caption, data, variables, width, height)


def plot_throughput(r, cells):
    ok = [c for c in cells if c.ok and c.timing("ns_per_op")]
    if not ok:
        if any(c.ok and c.workload == "program" for c in cells):
            return r.skip("throughput", "a program run times whole runs, not operations "
                          "(program_time shows them)")
        if any(c.ok for c in cells):
            return r.skip("throughput", "no cell has a time per operation (ns_per_op)")
        return r.skip("throughput", "no cell ran successfully")
    layout = Layout(ok)
    whisker = " Whiskers span the repetitions (min to max)." if any(len(c.runs) > 1 for c in ok) else ""
    bar_chart(r, layout, "throughput",
              "Time per operation for each workload and strategy (median over repetitions; "
              "lower is better)." + whisker,
              "Throughput: time per operation (lower is better)", "time per operation (ns/op)",
              lambda c: c.timing("ns_per_op"))


def plot_program_time(r, cells):
    """A program run (bench -- PROGRAM) times whole runs of the program, not
    operations: its bars are wall seconds per run under each allocator."""
    ok = [c for c in cells if c.ok and c.workload == "program" and c.timing("seconds")]
    if not ok:
        return
    layout = Layout(ok)
    bar_chart(r, layout, "program_time",
              "Wall time of the program under each allocator (median over repetitions; lower "
              "is better)." + (" Whiskers span the repetitions (min to max)."
                               if any(len(c.runs) > 1 for c in ok) else ""),
              "Program run time: wall seconds per run (lower is better)", "wall time (s)",
              lambda c: c.timing("seconds"))


def plot_fragmentation(r, cells):
    ok = [c for c in cells if c.ok and c.figure("fragmentation") is not None]
    if not ok:
        return r.skip("fragmentation", "no cell reported fragmentation")
    layout = Layout(ok)

    def value(c):
        f = c.figure("fragmentation")
        return f, f, f
    bar_chart(r, layout, "fragmentation",
              "Fragmentation: footprint bytes per live byte, (rss_peak - rss_base) / live_peak; "
              "1.0 means no overhead (lower is better).",
              "Fragmentation: (peak RSS - base RSS) / peak live bytes (lower is better)",
              "RSS bytes per live byte (ratio)", value, refline=1.0, refnote="1.0 = no overhead")


def memory_unit(max_bytes):
    for unit, scale in (("GiB", 2 ** 30), ("MiB", 2 ** 20)):
        if max_bytes >= 2 * scale:
            return unit, scale
    return "KiB", 1024.0


def sample_threads(sample):
    """The thread count in a sample's cell name (".../threads:N"), or 1."""
    for part in sample["name"].split("/"):
        if part.startswith("threads:") and part[8:].isdigit():
            return int(part[8:])
    return 1


def memory_axis(series_peaks, smallest):
    """(logy, bottom) of a memory plot's y axis, in bytes.  Linear from 0
    unless one series peaks more than 8 times higher than another (a region
    allocator's GiB beside the others' MiB would flatten them to a line at
    0): then logarithmic, from a little below the smallest figure drawn."""
    peaks = [p for p in series_peaks if p > 0]
    if len(peaks) < 2 or max(peaks) / min(peaks) <= 8:
        return 0, 0.0
    return 1, max(smallest / 1.5, max(peaks) / 1e5)


def plot_memory(r, samples, note):
    if samples is None:
        return r.skip("memory over time", note)
    by_plot = OrderedDict()
    for s in samples:
        by_plot.setdefault((s["workload"], s["variant"]), OrderedDict()) \
               .setdefault((s["collector"], sample_threads(s)), OrderedDict()) \
               .setdefault(s["name"], []).append(s)
    for (workload, variant), panels in by_plot.items():
        every = [x for names in panels.values() for rows in names.values() for x in rows]
        peak = max([x["rss_bytes"] or 0 for x in every] + [x["live_bytes"] or 0 for x in every])
        munit, mscale = memory_unit(peak)
        tmax = max(x["t_s"] for x in every)
        tunit, tscale = ("ms", 1e3) if tmax < 2 else ("s", 1.0)
        series_peaks = [max([x["rss_bytes"] or 0 for x in rows]) for names in panels.values()
                        for rows in names.values()]
        positive = [v for x in every for v in (x["rss_bytes"], x["live_bytes"]) if v and v > 0]
        logy, ymin = memory_axis(series_peaks, min(positive) if positive else 1)

        def shown(v):  # a figure as drawn: a log axis has no 0
            return None if v is None or (logy and v <= 0) else v / mscale
        # One colour per allocator; the key lists each once, for all panels.
        keys = list(OrderedDict.fromkeys(rows[0]["allocator"] for names in panels.values()
                                         for rows in names.values()))
        spare = {}
        key_colors = [color_for(a, ALLOCATOR_COLORS, spare) for a in keys]
        collectors = list(OrderedDict.fromkeys(c for c, _ in panels))
        threads = sorted({t for _, t in panels})
        blocks, colors, haslive, first, count, live, titles = [], [], [], [], [], [], []
        for (coll, nthreads), names in panels.items():
            first.append(len(blocks) + 1)
            count.append(len(names))
            live.append("")
            title = []
            if len(collectors) > 1:
                title.append("collector: %s" % coll)
            if len(threads) > 1:
                title.append("%d thread%s" % (nthreads, "" if nthreads == 1 else "s"))
            titles.append(", ".join(title))
            for name, rows in names.items():
                colors.append(key_colors[keys.index(rows[0]["allocator"])])
                rows = sorted(rows, key=lambda x: x["t_s"])
                haslive.append(int(any(x["live_bytes"] is not None and x["live_bytes"] > 0
                                       for x in rows)))
                if haslive[-1]:
                    # The blocks of this panel that have live bytes to draw.
                    live[-1] = (live[-1] + " %d" % (len(blocks) + 1)).strip()
                blocks.append("".join(data_line(
                    x["t_s"] * tscale, shown(x["rss_bytes"]), shown(x["live_bytes"]),
                    x.get("phase") or "") for x in rows))
        subtitle = []
        if len(collectors) == 1 and collectors[0] != "-":
            subtitle.append("collector: %s" % collectors[0])
        if len(threads) == 1 and threads[0] > 1:
            subtitle.append("%d threads" % threads[0])
        if logy:
            subtitle.append("log scale: the allocators' peaks differ more than 8 times")
        stem = "memory_%s_%s" % (slug(workload), slug(variant))
        variables = OrderedDict(
            title="Memory over time: %s / %s" % (workload, variant), subtitle="; ".join(subtitle),
            xlabel="time since the cell's memory pass started (%s)" % tunit,
            ylabel="memory (%s)" % munit, npanels=len(panels),
            xmax=tmax * tscale * 1.02, ymax=peak / mscale * (3 if logy else 1.1),
            logy=logy, ymin=ymin / mscale if logy else 0.0, anylive=int(any(haslive)),
            panel_title=titles, panel_first=first, panel_count=count,
            panel_live=live,
            series_color=colors, series_live=haslive, key_title=keys, key_color=key_colors)
        what = "Resident set size (solid)%s over time, %s / %s, one colour per allocator%s%s." % (
            " and live bytes requested by the workload (dashed)" if any(haslive) else "",
            workload, variant,
            ", one panel per %s" % " and ".join(
                w for w, n in (("collector", len(collectors)), ("thread count", len(threads))) if n > 1)
            if len(panels) > 1 else "",
            "; log y axis" if logy else "")
        r.render("memory.gp", stem, what, "\n\n".join(blocks) + "\n", variables, 1100,
                 max(560, 110 + 330 * len(panels)))


def plot_pauses(r, cells):
    paused = [c for c in cells
              if c.ok and (c.figure("gc_pauses") or 0) > 0 and c.figure("gc_pause_max_ns") is not None]
    if not paused:
        return r.skip("GC pauses", "no cell recorded a collector pause")
    layout = Layout(paused)
    longest = max(c.figure("gc_pause_max_ns") for c in paused)
    unit, scale = ("ns", 1.0) if longest < 1e4 else ("\u00b5s", 1e3) if longest < 1e7 else ("ms", 1e6)

    def row(cell, x, half):
        p = [cell.figure(k) for k in ("gc_pause_p50_ns", "gc_pause_p99_ns", "gc_pause_max_ns")]
        p = [v / scale if v is not None and v > 0 else None for v in p]
        known = [v for v in p if v is not None]
        if not known:
            return None
        return data_line(x, p[0], p[1], p[2], min(known), cell.figure("gc_pauses")), known
    data, variables, values = layout.blocks(row)
    variables.update(panel_ranges(values, 1.3, always_log=True))
    variables.update(title="GC pauses: median, 99th percentile and longest pause per cell",
                     ylabel="pause (%s)" % unit)
    width, height = layout.size(per_bar=18)
    r.render("pauses.gp", "gc_pauses",
             "Collector pauses of each cell that paused: p50 (circle), p99 (triangle) and the "
             "longest (cross), on a log axis; the line runs from the shortest figure to the longest.",
             data, variables, width, height)


# The latency pass's percentiles and the fraction of operations slower than
# each (1 - CDF): the points of a latency plot.  min and max are added by
# plot_latency (1 and 1 / samples).
LATENCY_POINTS = (("p50", 0.5), ("p90", 0.1), ("p99", 0.01), ("p999", 1e-3), ("p9999", 1e-4))
LATENCY_FLOOR_NS = 1.0  # a log axis has no 0: figures below this are drawn here


def latency_curve(cell, kind):
    """[(latency_ns, fraction slower, label)] of one cell's alloc or free,
    from the row's percentiles; [] when the cell has none."""
    n = cell.figure("latency_%s_samples" % kind)
    if not n:
        return []
    points = [("min", 1.0)] + list(LATENCY_POINTS) + [("max", 1.0 / n)]
    out = []
    for name, tail in points:
        v = cell.figure("latency_%s_%s_ns" % (kind, name))
        if v is None or (name not in ("min", "max") and tail < 1.0 / n):
            continue  # a percentile finer than the sample resolves
        out.append((max(v, LATENCY_FLOOR_NS), tail, name))
    return out


def decade_tics(lo, hi):
    """A "set xtics" command labelling each decade of nanoseconds in
    [lo, hi] with its unit (1 ns ... 100 ns, 1 µs ..., 1 ms ..., 1 s)."""
    tics = []
    for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        v = 10.0 ** e
        if lo <= v <= hi:
            unit, scale = next((u, s) for u, s in (("s", 1e9), ("ms", 1e6), ("\u00b5s", 1e3), ("ns", 1))
                               if v >= s)
            tics.append('"%g %s" %r' % (v / scale, unit, v))
    return "set xtics (%s)" % ", ".join(tics)


def plot_latency(r, cells):
    timed = [c for c in cells if c.ok and c.figure("latency_alloc_samples")]
    if not timed:
        return r.skip("latency", "no cell ran a latency pass (bench --latency)")
    by_plot = OrderedDict()
    for c in timed:
        by_plot.setdefault((c.workload, c.variant), []).append(c)
    for (workload, variant), group in by_plot.items():
        collectors = list(OrderedDict.fromkeys(c.collector for c in group))
        threads = sorted({c.threads for c in group})
        titles, colors, spare = [], [], {}
        for c in group:
            t = c.allocator
            if len(collectors) > 1:
                t += " / " + c.collector
            if len(threads) > 1:
                t += " (%d thread%s)" % (c.threads, "" if c.threads == 1 else "s")
            titles.append(t)
            colors.append(color_for(c.allocator, ALLOCATOR_COLORS, spare))
        blocks, block_series, first, count, xs, ys = [], [], [], [], [], []
        for kind in ("alloc", "free"):
            first.append(len(blocks) + 1)
            for si, c in enumerate(group):
                curve = latency_curve(c, kind)
                if not curve:
                    continue
                blocks.append("".join(data_line(x, y, label) for x, y, label in curve))
                block_series.append(si + 1)
                xs += [x for x, _, _ in curve]
                ys += [y for _, y, _ in curve]
            count.append(len(blocks) + 1 - first[-1])
        if not blocks:
            continue
        every = max(c.figure("latency_sample_every") or 1 for c in group)
        timer = max(c.figure("latency_timer_ns") or 0 for c in group)
        sub = ["collector: %s" % collectors[0]] if len(collectors) == 1 else []
        if len(threads) == 1 and threads[0] > 1:
            sub.append("%d threads" % threads[0])
        sub.append("%s timed; timer cost %.0f ns subtracted" % (
            "every operation" if every == 1 else "one operation in %d per thread" % every, timer))
        stem = "latency_%s_%s" % (slug(workload), slug(variant))
        variables = OrderedDict(
            title="Latency tail: %s / %s" % (workload, variant), subtitle="; ".join(sub),
            xlabel="latency of one operation, log scale (ns)",
            ylabel="operations slower than x (1 - CDF, log scale)",
            xmin=min(xs) / 1.5, xmax=max(xs) * 2, ymin=min(ys) / 3,
            xtics=decade_tics(min(xs) / 1.5, max(xs) * 2),
            panel_title=["alloc", "free"], panel_first=first, panel_count=count,
            block_series=block_series, series_title=titles, series_color=colors,
            keytitle="allocator")
        r.render("latency.gp", stem,
                 "Latency of each alloc (left) and free (right), %s / %s: the fraction of "
                 "operations slower than x, through p50, p90, p99, p99.9, p99.99 and the "
                 "longest, both axes log (docs/plots.md)." % (workload, variant),
                 "\n\n".join(blocks) + "\n", variables, 1300, 600)


# The windows a row's mmu_* keys stand for, in ms (harness/cell.c).
MMU_WINDOWS = (("1ms", 1), ("2ms", 2), ("5ms", 5), ("10ms", 10), ("20ms", 20), ("50ms", 50),
               ("100ms", 100), ("200ms", 200), ("500ms", 500), ("1s", 1000), ("2s", 2000),
               ("5s", 5000), ("10s", 10000))


def mmu_curve(cell):
    """[(window_ms, mmu)] of a cell: its reported windows, then the whole
    run; [] when it has none."""
    out = [(ms, cell.figure("mmu_" + name)) for name, ms in MMU_WINDOWS]
    out = [(ms, v) for ms, v in out if v is not None]
    run, run_ms = cell.figure("mmu_run"), cell.figure("mmu_run_ms")
    if out and run is not None and run_ms and run_ms > out[-1][0]:
        out.append((run_ms, run))
    return out


def plot_mmu(r, cells):
    has = [c for c in cells if c.ok and mmu_curve(c)]
    if not has:
        return r.skip("MMU", "no timed run paused for at least a millisecond's worth of "
                      "windows (collectors that pause: cycle, marksweep, tracing)")
    by_workload = OrderedDict()
    for c in has:
        by_workload.setdefault(c.workload, OrderedDict()).setdefault(c.variant, []).append(c)
    for workload, variants in by_workload.items():
        every = [c for group in variants.values() for c in group]
        allocators = list(OrderedDict.fromkeys(c.allocator for c in every))
        threads = sorted({c.threads for c in every})
        keys = list(OrderedDict.fromkeys((c.collector, c.allocator, c.threads) for c in every))
        spare = {}
        titles = [k[0] + (" / %s" % k[1] if len(allocators) > 1 else "") +
                  (" (%d threads)" % k[2] if len(threads) > 1 else "") for k in keys]
        colors = [color_for(k[0], COLLECTOR_COLORS, spare) for k in keys]
        dashes = [allocators.index(k[1]) + 1 for k in keys]
        blocks, block_series, first, count, xs = [], [], [], [], []
        for variant, group in variants.items():
            first.append(len(blocks) + 1)
            for c in group:
                curve = mmu_curve(c)
                blocks.append("".join(data_line(ms, v) for ms, v in curve))
                block_series.append(keys.index((c.collector, c.allocator, c.threads)) + 1)
                xs += [ms for ms, _ in curve]
            count.append(len(blocks) + 1 - first[-1])
        ncols = 1 if len(variants) <= 2 else 2 if len(variants) <= 4 else 3
        nrows = -(-len(variants) // ncols)
        lo, hi = min(xs) / 1.3, max(xs) * 1.3
        sub = ["allocator: %s" % allocators[0]] if len(allocators) == 1 else []
        sub.append("each point: the least utilisation in any window that long or longer")
        variables = OrderedDict(
            title="Minimum mutator utilisation: %s" % workload, subtitle="; ".join(sub),
            xlabel="window, log scale (ms)", ylabel="MMU (fraction of the window)",
            xmin=lo, xmax=hi, xtics=ms_tics(lo, hi),
            panel_title=["variant: %s" % v for v in variants], panel_first=first,
            panel_count=count, ncols=ncols, block_series=block_series, series_title=titles,
            series_color=colors, series_dash=dashes,
            keytitle="collector" + (" / allocator" if len(allocators) > 1 else ""))
        r.render("mmu.gp", "mmu_%s" % slug(workload),
                 "Minimum mutator utilisation of each collector on %s, one panel per variant: "
                 "for each window length, the least share of any window that long or longer "
                 "left to the program between pauses (1 = never paused; higher is better)."
                 % workload, "\n\n".join(blocks) + "\n", variables,
                 max(1000, 430 + 420 * ncols), max(520, 110 + 330 * nrows))


def ms_tics(lo, hi):
    """A "set xtics" command for a log axis in ms: 1-2-5 steps labelled
    with their unit (ms below a second, s above)."""
    tics = []
    for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            v = m * 10.0 ** e
            if lo <= v <= hi:
                tics.append('"%s" %r' % ("%g ms" % v if v < 1000 else "%g s" % (v / 1000), v))
    return "set xtics (%s)" % ", ".join(tics)


def size_text(n):
    """Bytes as a person reads them: KiB or MiB with three figures."""
    if n >= 1 << 20:
        return "%.3g MiB" % (n / float(1 << 20))
    return "%.3g KiB" % (n / 1024.0)


def log_axis_tics(values, fmt):
    """(lo, hi, "set xtics (...)") for a log x axis through exactly the
    sweep's points, each labelled with fmt."""
    values = sorted(set(values))
    lo, hi = values[0] / 1.15, values[-1] * 1.15
    return lo, hi, "set xtics (%s)" % ", ".join('"%s" %r' % (fmt(v), float(v)) for v in values)


def plot_heapsweep(r, cells):
    """heapsweep_<workload>: --heap-sweep's points, time per operation and
    pause p99 against the heap limit (x the minimum heap) for tracing and
    marksweep, against the generation-0 threshold for cycle.  A failed
    point is named in its panel's title, not drawn."""
    points = [c for c in cells if c.ok and c.sweep_point and c.timing("ns_per_op")]
    if not points:
        return r.skip("heap sweep", "no --heap-sweep point ran successfully") if any(
            c.sweep_point for c in cells) else None
    by_workload = OrderedDict()
    for c in points:
        by_workload.setdefault(c.workload, []).append(c)
    for workload, group in by_workload.items():
        keys = list(OrderedDict.fromkeys((c.collector, c.allocator) for c in group))
        allocators = list(OrderedDict.fromkeys(c.allocator for c in group))
        spare = {}
        titles = [k[0] + (" / %s" % k[1] if len(allocators) > 1 else "") for k in keys]
        colors = [color_for(k[0], COLLECTOR_COLORS, spare) for k in keys]
        panels, blocks, block_series, mins = [], [], [], []
        for variant in OrderedDict.fromkeys(c.variant for c in group):
            for kind in ("heap", "cycle"):
                mine = [c for c in group if c.variant == variant and
                        (c.heap_factor is not None) == (kind == "heap")]
                if not mine:
                    continue
                xkey = (lambda c: c.heap_factor) if kind == "heap" else (lambda c: c.gc_threshold0)
                lo, hi, tics = log_axis_tics([xkey(c) for c in mine], (lambda v: "%gx" % v)
                                             if kind == "heap" else (lambda v: "%d" % v))
                floor = []
                for k in keys:
                    m = [c for c in mine if (c.collector, c.allocator) == k]
                    if kind == "heap" and m and m[0].figure("heap_min_bytes"):
                        floor.append("%s %s" % (k[0], size_text(m[0].figure("heap_min_bytes"))))
                if floor:
                    mins.append("%s: %s" % (variant, ", ".join(floor)))
                where = ("%s, heap limit" % variant if kind == "heap"
                         else "%s, cycle's thresholds" % variant)
                second = ("minimum heap: %s" % ", ".join(floor) if kind == "heap"
                          else "gen1, gen2 at 10, 10")
                failed = [c for c in cells if c.sweep_point and not c.ok and c.skipped is None
                          and c.workload == workload and c.variant == variant
                          and (c.heap_factor is not None) == (kind == "heap")]
                if failed:  # a point left out of a line must not pass unseen
                    second += "\nFAILED (not drawn): " + ", ".join(
                        "%s %s" % (c.collector, "%gx" % c.heap_factor if kind == "heap"
                                   else "%d" % c.gc_threshold0) for c in failed)
                xlabel = ("heap limit, x the minimum heap (log)" if kind == "heap"
                          else "generation-0 threshold (log; CPython's is 700)")
                for what, key, scale, ylabel, logy in (
                        ("time", "ns_per_op", 1.0, "ns per operation", 0),
                        ("pause p99", "gc_pause_p99_ns", 1e-3, "pause p99 (us, log)", 1)):
                    first = len(blocks) + 1
                    for k in keys:
                        line = []
                        for c in sorted((c for c in mine if (c.collector, c.allocator) == k), key=xkey):
                            t = c.timing(key)
                            if t is not None and t[0] > 0:
                                line.append(data_line(xkey(c), t[0] * scale))
                        if line:
                            blocks.append("".join(line))
                            block_series.append(keys.index(k) + 1)
                    if len(blocks) + 1 == first:  # nothing paused: an empty panel says so
                        blocks.append(data_line(lo, None))
                        block_series.append(1)
                    panels.append(dict(title="%s: %s\n%s" % (where, what, second), first=first,
                                       count=len(blocks) + 1 - first, xlabel=xlabel,
                                       ylabel=ylabel, logy=logy, xmin=lo, xmax=hi, xtics=tics))
        ncols = 2
        nrows = -(-len(panels) // ncols)
        sub = ["allocator: %s" % allocators[0]] if len(allocators) == 1 else []
        sub.append("median of the repetitions; lower is better in every panel")
        variables = OrderedDict(
            title="Time-space curves: %s" % workload, subtitle="; ".join(sub),
            panel_title=[p["title"] for p in panels], panel_first=[p["first"] for p in panels],
            panel_count=[p["count"] for p in panels], panel_xlabel=[p["xlabel"] for p in panels],
            panel_ylabel=[p["ylabel"] for p in panels], panel_logy=[p["logy"] for p in panels],
            panel_xmin=[p["xmin"] for p in panels], panel_xmax=[p["xmax"] for p in panels],
            panel_xtics=[p["xtics"] for p in panels], ncols=ncols, block_series=block_series,
            series_title=titles, series_color=colors,
            keytitle="collector" + (" / allocator" if len(allocators) > 1 else ""))
        r.render("heapsweep.gp", "heapsweep_%s" % slug(workload),
                 "Time-space curves on %s (bench --heap-sweep): time per operation and pause "
                 "p99 of each collector as its heap grows.  tracing and marksweep run under a "
                 "heap limit of each factor times the workload's minimum heap (%s), found by "
                 "bisection; cycle runs over a ladder of generation-0 thresholds "
                 "(docs/heap-sweep.md)." % (workload, "; ".join(mins) or "none found"),
                 "\n\n".join(blocks) + "\n", variables,
                 1300, max(560, 140 + 340 * nrows))


def plot_soak(r, cells, samples):
    """soak_<workload>_<variant>: the samples of a --duration run, as
    footprint per live byte and as bytes held beyond the live bytes."""
    soaked = OrderedDict()
    for c in cells:
        if c.ok and c.figure("soak_cycles") and c.figure("rss_base") is not None:
            soaked[(c.workload, c.variant, c.allocator, c.collector)] = c
    if not soaked:
        return  # not a soak: nothing to say
    if samples is None:
        return r.skip("soak", "no memory samples beside the results")
    series = OrderedDict()
    for s in samples:
        key = (s["workload"], s["variant"], s["allocator"], s["collector"])
        if key in soaked:
            series.setdefault((s["workload"], s["variant"]), OrderedDict()) \
                  .setdefault(key, []).append(s)
    for (workload, variant), lines in series.items():
        collectors = list(OrderedDict.fromkeys(k[3] for k in lines))
        tmax = max(x["t_s"] for rows in lines.values() for x in rows)
        held_peak = 1
        blocks, titles, colors, spare = [], [], [], {}
        for key, rows in lines.items():
            cell = soaked[key]
            base = cell.figure("rss_base")
            rows = sorted(rows, key=lambda x: x["t_s"])
            live_peak = max([x["live_bytes"] or 0 for x in rows]) or 1
            text = []
            for x in rows:
                rss, live = x["rss_bytes"], x["live_bytes"]
                ratio = (rss - base) / live if rss is not None and live and \
                    live >= live_peak / 10 and rss > base else None
                held = rss - base - (live or 0) if rss is not None and live is not None else None
                if held is not None:
                    held_peak = max(held_peak, abs(held))
                text.append((x["t_s"], ratio, held, x.get("phase") or ""))
            blocks.append(text)
            titles.append(key[2] + (" / " + key[3] if len(collectors) > 1 else ""))
            colors.append(color_for(key[2], ALLOCATOR_COLORS, spare))
        munit, mscale = memory_unit(held_peak)
        # One allocator that keeps everything (arena) would flatten the rest
        # to a line at 0: as in the memory plots, a log axis then.
        peaks = [max([h for _, _, h, _ in b if h is not None] or [0]) for b in blocks]
        logy, floor = memory_axis(peaks, min([h for b in blocks for _, _, h, _ in b
                                              if h is not None and h > 0] or [1]))
        data = "\n\n".join("".join(data_line(
            t, ratio, None if held is None or (logy and held <= 0) else held / mscale, ph)
            for t, ratio, held, ph in b) for b in blocks) + "\n"
        cycles = max(int(soaked[k].figure("soak_cycles")) for k in lines)
        variables = OrderedDict(
            title="Soak: %s / %s, RSS against live bytes over time" % (workload, variant),
            subtitle=("collector: %s; " % collectors[0] if len(collectors) == 1 else "") +
            "up to %d cycles of setup, run, drain, teardown on one allocator" % cycles,
            xlabel="time since the soak started (s)", ylabel_ratio="RSS / live (ratio)",
            ylabel_held="RSS - live (%s%s)" % (munit, ", log scale" if logy else ""),
            xmax=tmax * 1.02, logy_held=logy, held_min=floor / mscale,
            series_title=titles, series_color=colors, keytitle="allocator")
        r.render("soak.gp", "soak_%s_%s" % (slug(workload), slug(variant)),
                 "A soak of %s / %s (--duration): above, (RSS - RSS at start) / live bytes "
                 "while the workload holds at least a tenth of its peak; below, RSS beyond "
                 "the live bytes, which after each drain is what the allocator kept (it "
                 "returned memory where the line falls back)." % (workload, variant),
                 data, variables, 1100, 760)


def plot_scaling(r, cells):
    ok = [c for c in cells if c.ok and c.timing("ops_per_sec")]
    by_plot = OrderedDict()
    for c in ok:
        by_plot.setdefault((c.workload, c.variant), []).append(c)
    swept = {k: v for k, v in by_plot.items() if len({c.threads for c in v}) > 1}
    if not swept:
        return r.skip("thread scaling", "every cell ran at one thread count")
    for (workload, variant), group in swept.items():
        lines = OrderedDict()
        for c in group:
            lines.setdefault((c.allocator, c.collector, params_without_threads(c.params)), []).append(c)
        collectors = list(OrderedDict.fromkeys(k[1] for k in lines))
        params = {k[2] for k in lines}
        blocks, titles, colors, dashes = [], [], [], []
        spare = {}
        for (alloc, coll, p), cs in lines.items():
            title = alloc if len(collectors) == 1 else "%s / %s" % (alloc, coll)
            titles.append(title + (" (%s)" % p if len(params) > 1 and p else ""))
            colors.append(color_for(alloc, ALLOCATOR_COLORS, spare))
            dashes.append(collectors.index(coll) + 1)
            rows = []
            for c in sorted(cs, key=lambda c: c.threads):
                med, lo, hi = c.timing("ops_per_sec")
                rows.append(data_line(c.threads, med / 1e6, lo / 1e6, hi / 1e6))
            blocks.append("".join(rows))
        threads = sorted({c.threads for c in group})
        stem = "scaling_%s_%s" % (slug(workload), slug(variant))
        variables = OrderedDict(
            title="Thread scaling: %s / %s (higher is better)" % (workload, variant),
            subtitle="collector: %s" % collectors[0] if len(collectors) == 1 else "",
            xlabel="threads", ylabel="throughput (million operations per second)",
            logx=int(threads[-1] / threads[0] >= 8),
            xtics="set xtics (%s)" % ", ".join('"%d" %d' % (t, t) for t in threads),
            xmin=threads[0] / 1.3 if threads[-1] / threads[0] >= 8 else threads[0] - 0.5,
            xmax=threads[-1] * 1.3 if threads[-1] / threads[0] >= 8 else threads[-1] + 0.5,
            series_title=titles, series_color=colors, series_dash=dashes,
            keytitle="allocator" if len(collectors) == 1 else "allocator / collector")
        r.render("scaling.gp", stem, "Operations per second against threads, %s / %s (median "
                 "over repetitions, whiskers min to max)." % (workload, variant),
                 "\n\n".join(blocks) + "\n", variables, 1000, 600)


# -------------------------------------------------------------- report -- #

def human_bytes(v):
    if v is None:
        return "\u2013"
    for unit, scale in (("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if abs(v) >= scale:
            return "%.1f %s" % (v / scale, unit)
    return "%d B" % v


REPORT_STYLE = """
body { font: 15px/1.45 "DejaVu Sans", sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.92em; }
table { border-collapse: collapse; font-size: 0.92em; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #e5e5e5; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.failed td.status { color: #b00; font-weight: bold; } tr.skipped td { color: #777; }
summary { cursor: pointer; color: #555; margin: 0.8em 0; }
#image-check.broken { color: #b00; font-weight: bold; }
.muted { color: #666; } code { font-size: 0.95em; }
.smoke { color: #b00000; font-weight: bold; }
"""

# Marks the page once it has loaded: every <img> decoded, or the broken ones
# named.  People see a warning only when an image is broken (nothing when all
# loaded); tests/report_browser_test.sh reads the marker's attributes.
REPORT_CHECK = """
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (img) { return !(img.complete && img.naturalWidth > 0); });
  var mark = document.getElementById("image-check");
  mark.setAttribute("data-images", String(images.length));
  mark.setAttribute("data-broken", String(broken.length));
  if (broken.length) {
    mark.className = "broken";
    mark.textContent = "Images that did not load: " +
      broken.map(function (img) { return img.getAttribute("src"); }).join(", ");
  }
  mark.setAttribute("data-status", broken.length ? "broken" : "ok");
});
"""


def geometric_mean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def summary_best(cells):
    """The best allocator of each workload on time and on peak RSS: [(label,
    workload, fastest, its ns/op, how many times slower the runner-up is,
    smallest, its rss_peak)].  Allocators are compared within one workload,
    collector and thread count, over the variants each of them ran (the
    geometric mean of ns/op and of rss_peak, so that no variant's scale
    outweighs another's); an allocator missing a variant is not ranked.
    None where fewer than one allocator has the figure."""
    groups = OrderedDict()
    for c in cells:
        if c.ok and c.workload != "program":
            groups.setdefault((c.workload, c.collector, c.threads), []).append(c)
    several_collectors = {w for w in {k[0] for k in groups}
                          if len({k[1] for k in groups if k[0] == w}) > 1}
    several_threads = {w for w in {k[0] for k in groups}
                       if len({k[2] for k in groups if k[0] == w}) > 1}
    out = []
    for (workload, collector, threads), group in groups.items():
        variants = {c.variant for c in group}

        def ranked(figure):
            per = OrderedDict()
            for c in group:
                v = figure(c)
                if v is not None and v > 0:
                    per.setdefault(c.allocator, {})[c.variant] = v
            full = [(geometric_mean(list(v.values())), a) for a, v in per.items()
                    if set(v) == variants]
            return sorted(full)
        time = ranked(lambda c: (c.timing("ns_per_op") or (None,))[0])
        rss = ranked(lambda c: c.figure("rss_peak"))
        label = workload
        extra = []
        if workload in several_collectors:
            extra.append(collector)
        if workload in several_threads:
            extra.append("%d thread%s" % (threads, "" if threads == 1 else "s"))
        if extra:
            label += " (%s)" % ", ".join(extra)
        out.append((label, workload,
                    time[0][1] if time else None, time[0][0] if time else None,
                    time[1][0] / time[0][0] if len(time) > 1 else None,
                    rss[0][1] if rss else None, rss[0][0] if rss else None,
                    len(time)))
    return out


def summary_pauses(cells):
    """Each collector's pause p99: [(collector, worst p99 over its cells,
    that cell's name, median of the cells' p99s, cells)]."""
    by = OrderedDict()
    for c in cells:
        p99 = c.figure("gc_pause_p99_ns") if c.ok else None
        if p99 is not None and p99 > 0:
            by.setdefault(c.collector, []).append((p99, c))
    out = []
    for coll, items in by.items():
        worst = max(items, key=lambda x: x[0])
        out.append((coll, worst[0], "%s/%s/%s" % (worst[1].workload, worst[1].variant,
                                                   worst[1].allocator),
                    statistics.median(p for p, _ in items), len(items)))
    return out


def human_ns(v):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("\u00b5s", 1e3)):
        if v >= scale:
            return "%.3g %s" % (v / scale, unit)
    return "%.3g ns" % v


def report_summary(cells, banner):
    """The report's opening: what the run says, before any plot."""
    e = html.escape
    out = ["<h2>Summary</h2>"]
    if banner:
        out.append("<p class=\"smoke\" id=\"smoke\">%s</p>" % e(banner))
    best = summary_best(cells)
    if best:
        out.append("<p class=\"muted\">Best allocator per workload: the lowest time per "
                   "operation and the smallest peak RSS (geometric mean over the workload's "
                   "variants; only allocators that ran every variant are ranked).</p>")
        out.append("<table id=\"summary-best\"><thead><tr><th>workload</th><th>fastest</th>"
                   "<th class=\"num\">ns/op</th><th class=\"num\">next is</th>"
                   "<th>smallest peak RSS</th><th class=\"num\">rss_peak</th></tr></thead><tbody>")
        for label, workload, fast, ns, gap, small, rss, ranked in best:
            out.append("<tr data-workload=\"%s\" data-fastest=\"%s\" data-smallest=\"%s\">"
                       "<td>%s</td><td>%s</td><td class=\"num\">%s</td><td class=\"num\">%s</td>"
                       "<td>%s</td><td class=\"num\">%s</td></tr>" % (
                           e(label), e(fast or ""), e(small or ""), e(label), e(fast or "\u2013"),
                           "\u2013" if ns is None else "%.2f" % ns,
                           "\u2013" if gap is None else "%.2f\u00d7 slower" % gap,
                           e(small or "\u2013"), human_bytes(rss)))
        out.append("</tbody></table>")
    pauses = summary_pauses(cells)
    if pauses:
        out.append("<p class=\"muted\">Collector pauses: the highest 99th-percentile pause of "
                   "any cell, and the median of the cells' p99s.</p>")
        out.append("<table id=\"summary-pauses\"><thead><tr><th>collector</th>"
                   "<th class=\"num\">worst p99</th><th>in</th><th class=\"num\">median p99</th>"
                   "<th class=\"num\">cells</th></tr></thead><tbody>")
        for coll, worst, where, median, n in pauses:
            out.append("<tr data-collector=\"%s\" data-p99-ns=\"%r\"><td>%s</td>"
                       "<td class=\"num\">%s</td><td>%s</td><td class=\"num\">%s</td>"
                       "<td class=\"num\">%d</td></tr>" % (
                           e(coll), worst, e(coll), human_ns(worst), e(where), human_ns(median), n))
        out.append("</tbody></table>")
    if len(out) == 1:
        out.append("<p class=\"muted\">No cell ran successfully.</p>")
    return "\n".join(out)


def report_rows(cells):
    """The results table: one row per cell that ran (ok or failed)."""
    e = html.escape
    vary_threads = len({c.threads for c in cells}) > 1
    vary_params = len({(c.workload, c.variant, params_without_threads(c.params)) for c in cells}) > \
        len({(c.workload, c.variant) for c in cells})
    head = ["workload", "variant", "allocator", "collector"]
    head += ["threads"] if vary_threads else []
    head += ["params"] if vary_params else []
    head += ["ns/op", "rss_peak", "live_peak", "fragmentation", "leaked", "status"]
    out = ["<table id=\"results\">", "<thead><tr>%s</tr></thead>" %
           "".join("<th>%s</th>" % h for h in head), "<tbody>"]
    for c in cells:
        timing = c.timing("ns_per_op") if c.ok else None
        cv = c.aggregate("cv", "ns_per_op")
        ns = "\u2013" if timing is None else "%.2f" % timing[0]
        if timing is not None and isinstance(cv, (int, float)):
            ns += " <span class=\"muted\">\u00b1%.1f%%</span>" % (cv * 100)
        frag, leaked = c.figure("fragmentation"), c.figure("leaked_bytes")
        rss, live = c.figure("rss_peak"), c.figure("live_peak")
        klass = "ok" if c.ok else "failed"
        cols = [e(c.workload), e(c.variant), e(c.allocator), e(c.collector)]
        cols += [str(c.threads)] if vary_threads else []
        cols += [e(params_without_threads(c.params))] if vary_params else []
        tds = "".join("<td>%s</td>" % x for x in cols)
        tds += "<td class=\"num\">%s</td>" % ns
        for v in (rss, live):
            tds += "<td class=\"num\" title=\"%s\">%s</td>" % (
                "" if v is None else "%d bytes" % v, human_bytes(v))
        tds += "<td class=\"num\">%s</td>" % ("\u2013" if frag is None else "%.2f" % frag)
        tds += "<td class=\"num\" title=\"%s\">%s</td>" % (
            "" if leaked is None else "%d bytes" % leaked, human_bytes(leaked))
        tds += "<td class=\"status\">%s</td>" % e(c.status)
        out.append("<tr class=\"%s\" data-cell=\"%s\" data-threads=\"%d\">%s</tr>"
                   % (klass, e(c.name), c.threads, tds))
    out.append("</tbody></table>")
    return "\n".join(out)


def report_skipped(cells):
    """The matrix's cells that did not run, folded away: often many."""
    if not cells:
        return ""
    rows = "".join("<tr class=\"skipped\" data-cell=\"%s\">%s<td>%s</td></tr>" % (
        html.escape(c.full_name or c.name),
        "".join("<td>%s</td>" % html.escape(x) for x in (c.workload, c.variant, c.allocator, c.collector)),
        html.escape(c.skipped)) for c in cells)
    return ("<details><summary>%d cells of the matrix did not run</summary><table id=\"skipped\">"
            "<thead><tr><th>workload</th><th>variant</th><th>allocator</th><th>collector</th>"
            "<th>why</th></tr></thead><tbody>%s</tbody></table></details>" % (len(cells), rows))


def report_environment(context, cells, json_path, out_dir):
    """The machine and the build that produced the run."""
    versions = OrderedDict()
    for c in cells:
        v = next((row.get("allocator_version") for row in c.runs if row.get("allocator_version")), None)
        if v:
            versions.setdefault(c.allocator, v)
    cpu = context.get("cpu_model") or "unknown"
    if context.get("num_cpus"):
        cpu += ", %s CPUs" % context["num_cpus"]
    if context.get("mhz_per_cpu"):
        cpu += " at %s MHz" % context["mhz_per_cpu"]
    command = context.get("command_line")
    if isinstance(command, list):
        command = shlex.join(str(x) for x in command)
    commit = context.get("heaplab_commit") or "unknown"
    if context.get("heaplab_version"):
        commit = "heaplab %s, commit %s" % (context["heaplab_version"], commit)
    build = ", ".join(x for x in (context.get("heaplab_build_type"),
                                  context.get("compiler") and "gcc %s" % context["compiler"]) if x)
    rows = [
        ("date", context.get("date")), ("host", context.get("host_name")), ("CPU", cpu),
        ("kernel", context.get("kernel")), ("Debian", context.get("debian_version")),
        ("transparent huge pages", context.get("transparent_hugepages")),
        ("allocator versions", "; ".join("%s: %s" % kv for kv in versions.items()) or None),
        ("heaplab", commit), ("build", build or None), ("command line", command),
        ("results file", os.path.relpath(json_path, out_dir)),
    ]
    out = ["<table id=\"environment\"><tbody>"]
    for k, v in rows:
        if v in (None, ""):
            text = "<span class=\"muted\">unknown</span>"
        elif k in ("command line", "results file"):
            text = "<code>%s</code>" % html.escape(str(v))
        else:
            text = html.escape(str(v))
        out.append("<tr><th>%s</th><td>%s</td></tr>" % (html.escape(k), text))
    out.append("</tbody></table>")
    return "\n".join(out)


def write_report(r, context, cells, json_path):
    """plots/report.html: the plots, the cells and the environment."""
    e = html.escape
    stem = os.path.basename(json_path)[: -len(".json")]
    results = os.path.relpath(json_path, r.out_dir)
    ran = [c for c in cells if c.skipped is None]
    skipped = [c for c in cells if c.skipped is not None]
    parts = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
             "<title>heaplab report: %s</title>" % e(stem),
             "<style>%s</style></head>" % REPORT_STYLE,
             "<body data-results=\"%s\">" % e(results),
             "<h1>heaplab report</h1>",
             "<p class=\"muted\">Run <code>%s</code>, %s. Regenerate with <code>make plots</code> "
             "(docs/plots.md says what each plot shows).</p>" % (e(stem), e(str(context.get("date", "")))),
             "<p id=\"image-check\" data-status=\"pending\"></p>",
             report_summary([c for c in cells if c.skipped is None and
                             c.workload not in NOT_BENCHMARKS], r.banner),
             "<h2>Plots</h2>"]
    for name, caption in r.written:
        parts.append("<figure id=\"plot-%s\"><a href=\"%s.svg\"><img src=\"%s.png\" alt=\"%s\"></a>"
                     "<figcaption>%s (<a href=\"%s.svg\">SVG</a>)</figcaption></figure>"
                     % (e(name), e(name), e(name), e(caption), e(caption), e(name)))
    if r.notes:
        parts.append("<p>Not drawn:</p><ul id=\"notes\">%s</ul>"
                     % "".join("<li>%s</li>" % e(n) for n in r.notes))
    parts += ["<h2>Results</h2>",
              "<p class=\"muted\">One row per cell: %d ran, %d of them failed. ns/op is the median "
              "over repetitions (&plusmn; coefficient of variation); the memory figures come from "
              "each cell's memory pass (docs/metrics.md); &ndash; marks a figure the cell does not "
              "have.</p>" % (len(ran), sum(1 for c in ran if not c.ok)),
              report_rows(ran), report_skipped(skipped), "<h2>Environment</h2>",
              report_environment(context, cells, json_path, r.out_dir),
              "<script>%s</script>" % REPORT_CHECK, "</body></html>"]
    path = os.path.join(r.out_dir, "report.html")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")
    print("plots: wrote %s" % shown(path))


# ---------------------------------------------------------------- main -- #

# Workloads that run in the matrix but are not benchmarks: stress checks
# every block and object (docs/stress.md); its timings mean nothing.  Their
# cells stay in the report's table; the plots leave them out.
NOT_BENCHMARKS = ("stress",)

# The name of a --heap-sweep point (harness/heapsweep.c): ".../heap:1.5x" or ".../gc0:700".
SWEEP_NAME = re.compile(r"/(heap:[0-9.e+]+x|gc0:[0-9]+)(/|$)")


def benchmark_cells(r, cells):
    """The cells the plots draw: every one but those of NOT_BENCHMARKS
    workloads, with a note when some were left out."""
    left = sorted({c.workload for c in cells if c.workload in NOT_BENCHMARKS and c.skipped is None})
    if left:
        r.notes.append("%s: not plotted, a correctness check rather than a benchmark (the "
                       "report's table lists its cells)" % ", ".join(left))
    return [c for c in cells if c.workload not in NOT_BENCHMARKS]


def smoke_banner(context, cells):
    """The line that marks a smoke run's plots, or "".  A --quick run (make
    bench: 200,000 operations, often one repetition) finishes in seconds and
    its timings move by tens of percent between runs: enough to see that
    everything works, not to rank allocators."""
    command = context.get("command_line") or []
    if isinstance(command, str):
        command = shlex.split(command)
    if "--quick" not in command:
        return ""
    reps = max([len(c.runs) for c in cells if c.ok] or [1])
    return ("SMOKE RUN (--quick sizes, %d repetition%s): timings vary run to run; not for "
            "comparing allocators (docs/plots.md)" % (reps, "" if reps == 1 else "s"))


def main(argv):
    ap = argparse.ArgumentParser(prog="plots.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("results", nargs="?", default=os.path.join(TOP, "results"),
                    help="a results .json (or its .csv) or a directory (default results/)")
    ap.add_argument("--out", default=SCRIPTS, help="where plots and report.html go (default plots/)")
    args = ap.parse_args(argv)
    try:
        json_path = find_results(args.results)
        context, cells = load_run(json_path)
    except NoResults as e:
        print("plots: %s" % e, file=sys.stderr)
        return 2
    if shutil.which("gnuplot") is None:
        print("plots: gnuplot not found (install gnuplot-nox; scripts/install-deps.sh does)", file=sys.stderr)
        return 1
    os.makedirs(args.out, exist_ok=True)
    for entry in os.scandir(args.out):
        if entry.is_file() and GENERATED.match(entry.name):
            os.unlink(entry.path)
    print("plots: results %s" % shown(json_path))
    samples, note = load_samples(json_path)
    with tempfile.TemporaryDirectory(prefix="heaplab-plots.") as work:
        if os.environ.get("HEAPLAB_PLOTS_WORK"):  # keep the data, to rerun gnuplot by hand
            work = os.environ["HEAPLAB_PLOTS_WORK"]
            os.makedirs(work, exist_ok=True)
        r = Renderer(args.out, work, smoke_banner(context, cells))
        drawn = benchmark_cells(r, cells)
        # --heap-sweep's points draw their own plot, not as cells beside the others
        swept = [c for c in drawn if c.sweep_point]
        drawn = [c for c in drawn if not c.sweep_point]
        if samples is not None:  # a sweep point's memory is its row's, not a plot's
            samples = [x for x in samples if not SWEEP_NAME.search(x.get("name", ""))]
        if samples is not None:
            samples = [x for x in samples if x["workload"] not in NOT_BENCHMARKS]
        views = [lambda: plot_throughput(r, drawn), lambda: plot_program_time(r, drawn),
                 lambda: plot_fragmentation(r, drawn), lambda: plot_memory(r, samples, note),
                 lambda: plot_pauses(r, drawn), lambda: plot_scaling(r, drawn),
                 lambda: plot_latency(r, drawn), lambda: plot_mmu(r, drawn),
                 lambda: plot_soak(r, drawn, samples)]
        if swept and not drawn:  # a sweep alone: its plot, not a "skipped" note per other view
            views = []
        try:
            for view in views + [lambda: plot_heapsweep(r, swept)]:
                view()
        except RuntimeError as e:
            print("plots: %s" % e, file=sys.stderr)
            return 1
        for n in r.notes:
            print("plots: note: %s" % n)
        write_report(r, context, cells, json_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
