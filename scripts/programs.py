#!/usr/bin/env python3
"""programs.py - the real-program suite: Debian's own programs, each on an
input generated here, under every system allocator.

    scripts/programs.py [--size tiny|quick|full] [--quick] [--repetitions N]
                        [--programs LIST] [--allocators LIST] [--seed N]
                        [--out DIR] [--bench PATH]

Synthetic workloads teach; real programs decide.  For each program below the
suite writes a fixed input (deterministic from --seed; nothing is
downloaded), runs the program through heaplab's program mode,

    bench --allocator=glibc,jemalloc,mimalloc,tcmalloc --repetitions=N \\
          --out=DIR/raw/NAME --program-stdout=DIR/work/NAME/stdout -- PROGRAM ARGS

which preloads each allocator, measures time, peak RSS, page faults and RSS
over time, and proves the allocator's library was inside the program
(docs/program.md), then checks every run:

  - the run succeeded (exit status 0, no signal, no timeout);
  - the allocator is proven (preload_verified) in the program's own image:
    the proof's last look names the expected executable, so a wrapper
    script or an exec'd child is never credited (Debian's binaries are run
    by absolute path, and each must be an ELF file);
  - what the run printed is correct: an answer computed here, independently
    of the program (a query's result from the generated rows, a checksum
    from a Python mirror of the script, a model checked against every
    constraint, a page count and a black-pixel count known from the
    drawing).

Then it writes into DIR (default results/programs):

    table.md           one row per program and allocator: medians of wall
                       time, CPU time, peak RSS and page faults, each also
                       relative to glibc
    summary.json       the same figures, with min and max, and every check
    NAME.png, .svg     per program: time, CPU, peak RSS, faults relative to
                       glibc (bars, min..max whiskers), and RSS over time
    raw/NAME/          bench's own results (.json, .csv, .samples.csv)
    work/NAME/         the generated input (stdout files are kept only for a
                       run whose check failed)

docs/programs.md describes each program, its input and check, and how to
read the table and plots.  redis is left out: Debian's redis-server links
libjemalloc itself (see the docs).

Exit status: 0 every run ran, was proven and printed the right answer;
1 a run failed, was not proven, or printed a wrong answer (the table is
still written, with the failure in its row); 2 bad command line or a
program that is not installed (scripts/install-deps.sh programs).
"""

import argparse
import csv
import json
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
from collections import OrderedDict

import cpython_compare  # cpu_model, shared by the scripts (scripts/ is on sys.path)

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALLOCATORS = ("glibc", "jemalloc", "mimalloc", "tcmalloc")
ALLOCATOR_COLORS = {"glibc": "#1f77b4", "jemalloc": "#d62728", "mimalloc": "#2ca02c",
                    "tcmalloc": "#ff7f0e"}
# Repetitions when --repetitions is not given: enough for a median at each size.
DEFAULT_REPETITIONS = {"tiny": 1, "quick": 3, "full": 5}
# RSS samples per second: the proof needs a look at the program after its
# loader ran (from the second sample on), so tiny runs are sampled faster.
DEFAULT_SAMPLE_HZ = {"tiny": 1000, "quick": 200, "full": 200}


def lcg(state):
    """The generators' shared random step (a 31-bit LCG): the Lua script runs
    the same one, so that its checksum can be mirrored exactly here."""
    return (state * 1103515245 + 12345) % 2147483648


# ============================================================ programs == #
#
# Each program is: a name (the row), the Debian binary, the environment it
# needs, what it stresses (one line), its sizes, generate(work, size, rng)
# returning (args, expected), and check(stdout bytes, expected) returning
# None or what was wrong.


class Program:
    name = binary = stresses = ""
    env = {}           # variables set for the program (None: removed)
    sizes = {}         # size name -> the generator's parameters

    def describe_input(self, size):
        return ", ".join("%s=%s" % kv for kv in self.sizes[size].items())


class Sqlite(Program):
    name, binary = "sqlite3", "/usr/bin/sqlite3"
    stresses = ("an in-memory database: B-tree pages, the page cache, statement "
                "compilation, sorting and hashing for joins and GROUP BY")
    sizes = {"tiny": dict(customers=1000, orders=15000, items=100),
             "quick": dict(customers=3000, orders=40000, items=300),
             "full": dict(customers=20000, orders=300000, items=1000)}

    def generate(self, work, size, rng):
        """workload.sql in work, and the five queries' output as sqlite3's
        list mode prints it, computed from the generated rows."""
        p = self.sizes[size]
        ncust, nord, nitem = p["customers"], p["orders"], p["items"]
        cities = 17
        cust = [(i, "c%06d_%s" % (i, "x" * rng.randrange(1, 20)), rng.randrange(cities))
                for i in range(1, ncust + 1)]
        items = [(i, rng.randrange(1, 1000)) for i in range(1, nitem + 1)]
        orders = [(i, rng.randrange(1, ncust + 1), rng.randrange(1, nitem + 1),
                   rng.randrange(1, 10)) for i in range(1, nord + 1)]
        path = os.path.join(work, "workload.sql")
        with open(path, "w") as f:
            f.write("CREATE TABLE customer(id INTEGER PRIMARY KEY, name TEXT, city INTEGER);\n"
                    "CREATE TABLE item(id INTEGER PRIMARY KEY, price INTEGER);\n"
                    "CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER, "
                    "item INTEGER, qty INTEGER);\nBEGIN;\n")
            for c in cust:
                f.write("INSERT INTO customer VALUES(%d,'%s',%d);\n" % c)
            for it in items:
                f.write("INSERT INTO item VALUES(%d,%d);\n" % it)
            for o in orders:
                f.write("INSERT INTO orders VALUES(%d,%d,%d,%d);\n" % o)
            f.write("COMMIT;\n"
                    "CREATE INDEX orders_customer ON orders(customer);\n"
                    "CREATE INDEX orders_item ON orders(item);\n"
                    "CREATE INDEX customer_name ON customer(name);\n"
                    "DELETE FROM orders WHERE qty = 1;\n"
                    "DELETE FROM customer WHERE id % 10 = 3;\n"
                    "SELECT count(*), sum(qty) FROM orders;\n"
                    "SELECT c.city, count(*), sum(o.qty * i.price) FROM orders o "
                    "JOIN customer c ON o.customer = c.id JOIN item i ON o.item = i.id "
                    "GROUP BY c.city ORDER BY c.city;\n"
                    "SELECT customer, sum(qty) AS s FROM orders GROUP BY customer "
                    "ORDER BY s DESC, customer LIMIT 5;\n"
                    "SELECT length(group_concat(name, ',')) FROM "
                    "(SELECT name FROM customer ORDER BY name);\n")
        # The answers, from the rows as generated.
        orders = [o for o in orders if o[3] != 1]
        live = {c[0]: c for c in cust if c[0] % 10 != 3}
        price = dict(items)
        lines = ["%d|%d" % (len(orders), sum(o[3] for o in orders))]
        by_city = {}
        for _, c, it, q in orders:
            if c in live:
                n, s = by_city.get(live[c][2], (0, 0))
                by_city[live[c][2]] = (n + 1, s + q * price[it])
        lines += ["%d|%d|%d" % (city, n, s) for city, (n, s) in sorted(by_city.items())]
        per = {}
        for _, c, _, q in orders:
            per[c] = per.get(c, 0) + q
        lines += ["%d|%d" % (c, s) for c, s in sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))[:5]]
        names = [c[1] for c in live.values()]
        lines.append("%d" % (sum(map(len, names)) + len(names) - 1))
        return [":memory:", ".read " + path], "\n".join(lines) + "\n"

    def check(self, out, expected):
        return None if out.decode(errors="replace") == expected else \
            "printed %r, expected %r" % (first_difference(out.decode(errors="replace"), expected))


class Lua(Program):
    name, binary = "lua5.4", "/usr/bin/lua5.4"
    stresses = ("a garbage-collected interpreter: many small tables and strings, a "
                "hash table grown by string keys, binary trees built and dropped")
    sizes = {"tiny": dict(rounds=3, keys=40000, depth=13),
             "quick": dict(rounds=4, keys=40000, depth=14),
             "full": dict(rounds=8, keys=200000, depth=17)}

    SCRIPT = r"""-- generated by heaplab scripts/programs.py: allocation-heavy Lua
local rounds, keys, depth, state = %d, %d, %d, %d
local function rnd(m)
  state = (state * 1103515245 + 12345) %% 2147483648
  return state %% m
end
local function build(d)
  if d == 0 then return {} end
  return {build(d - 1), build(d - 1)}
end
local function count(t)
  if t[1] == nil then return 1 end
  return 1 + count(t[1]) + count(t[2])
end
local sum = 0
for r = 1, rounds do
  local groups = {}
  for i = 1, keys do
    local k = "key" .. rnd(keys // 4) .. "_" .. r
    local g = groups[k]
    if g then
      g.n = g.n + 1
      g.list[#g.list + 1] = i
    else
      groups[k] = {n = 1, list = {i}}
    end
  end
  for k, g in pairs(groups) do
    sum = (sum + g.n * #k + g.list[#g.list]) %% 1000000007
  end
  local parts = {}
  for i = 1, keys // 8 do parts[#parts + 1] = tostring(rnd(1000000)) end
  local s = table.concat(parts, ",")
  sum = (sum + #s + count(build(depth))) %% 1000000007
end
print(sum)
"""

    def generate(self, work, size, rng):
        p = self.sizes[size]
        seed = rng.randrange(1, 2 ** 31)
        path = os.path.join(work, "alloc.lua")
        with open(path, "w") as f:
            f.write(self.SCRIPT % (p["rounds"], p["keys"], p["depth"], seed))
        return [path], "%d\n" % self.mirror(p["rounds"], p["keys"], p["depth"], seed)

    @staticmethod
    def mirror(rounds, keys, depth, state):
        """The script's checksum computed here: the same random sequence, but
        groups kept as counts and last indices, and the tree's size by its
        closed form 2^(depth+1) - 1."""
        total = 0
        for r in range(1, rounds + 1):
            n, last = {}, {}
            for i in range(1, keys + 1):
                state = lcg(state)
                k = "key%d_%d" % (state % (keys // 4), r)
                n[k] = n.get(k, 0) + 1
                last[k] = i
            for k in n:
                total = (total + n[k] * len(k) + last[k]) % 1000000007
            parts = []
            for _ in range(keys // 8):
                state = lcg(state)
                parts.append(str(state % 1000000))
            total = (total + len(",".join(parts)) + 2 ** (depth + 1) - 1) % 1000000007
        return total

    def check(self, out, expected):
        return None if out.decode(errors="replace") == expected else \
            "printed %r, expected %r" % (out[:80].decode(errors="replace"), expected)


class Python(Program):
    name, binary = "python3-malloc", "/usr/bin/python3"
    env = {"PYTHONMALLOC": "malloc"}
    stresses = ("CPython with every object from malloc (PYTHONMALLOC=malloc): instances, "
                "dicts, lists, tuples and strings made and dropped in bulk")
    sizes = {"tiny": dict(rounds=2, objects=5000),
             "quick": dict(rounds=4, objects=60000),
             "full": dict(rounds=4, objects=150000)}

    SCRIPT = r'''# generated by heaplab scripts/programs.py: object-heavy Python
import sys
ROUNDS, OBJECTS, SEED = %d, %d, %d

class Record:
    def __init__(self, key, value, tags):
        self.key, self.value, self.tags = key, value, tags

def main():
    rng_state, total = SEED, 0
    for r in range(ROUNDS):
        records = []
        for i in range(OBJECTS):
            rng_state = (rng_state * 1103515245 + 12345) %% 2147483648
            key = "k%%d" %% (rng_state %% (OBJECTS // 3))
            records.append(Record(key, i, (i %% 7, str(i))))
        groups = {}
        for rec in records:
            groups.setdefault(rec.key, []).append(rec)
        for key, members in groups.items():
            members.sort(key=lambda m: -m.value)
            total += len(members) * len(key) + members[0].value
        index = {rec.tags[1]: rec for rec in records if rec.tags[0] == r %% 7}
        total += sum(len(k) for k in index)
        total %%= 1000000007
    print(total)

main()
'''

    def generate(self, work, size, rng):
        p = self.sizes[size]
        seed = rng.randrange(1, 2 ** 31)
        path = os.path.join(work, "objects.py")
        with open(path, "w") as f:
            f.write(self.SCRIPT % (p["rounds"], p["objects"], seed))
        return [path], "%d\n" % self.mirror(p["rounds"], p["objects"], seed)

    @staticmethod
    def mirror(rounds, objects, state):
        """The script's checksum without its objects: per key a count and the
        largest index; the index of strings by digit counts."""
        total = 0
        for r in range(rounds):
            n, top = {}, {}
            for i in range(objects):
                state = lcg(state)
                k = state % (objects // 3)
                n[k] = n.get(k, 0) + 1
                top[k] = i
            for k in n:
                total += n[k] * (1 + len(str(k))) + top[k]
            total += sum(len(str(i)) for i in range(r % 7, objects, 7))
            total %= 1000000007
        return total

    check = Lua.check


class Pymalloc(Python):
    name = "python3-pymalloc"
    env = {"PYTHONMALLOC": None}
    stresses = ("the same script with CPython's own small-object allocator (pymalloc): "
                "only blocks over 512 bytes and pymalloc's 1 MiB arenas reach malloc")


class Ghostscript(Program):
    name, binary = "gs", "/usr/bin/gs"
    stresses = ("PostScript interpretation and rendering: paths, fills, strokes, text "
                "at many font sizes (the glyph cache), a page buffer per page")
    sizes = {"tiny": dict(pages=3, shapes=100),
             "quick": dict(pages=40, shapes=800),
             "full": dict(pages=150, shapes=2000)}
    SIDE = 300  # page size in points, at 72 dpi one pixel each

    def generate(self, work, size, rng):
        """document.ps in work, and each page's count of black pixels: only
        a rectangle on whole pixels is black, everything else is gray."""
        p = self.sizes[size]
        path = os.path.join(work, "document.ps")
        black = []
        with open(path, "w") as f:
            f.write("%%!PS\n%% generated by heaplab scripts/programs.py\n"
                    "<< /PageSize [%d %d] >> setpagedevice\n" % (self.SIDE, self.SIDE))
            for page in range(p["pages"]):
                for _ in range(p["shapes"]):
                    # Gray levels from 0.2 up: only the rectangle below is black.
                    f.write("%.2f setgray " % rng.uniform(0.2, 0.95))
                    kind = rng.randrange(3)
                    pts = [rng.randrange(0, 180) for _ in range(8)]
                    if kind == 0:
                        f.write("%d %d moveto %d %d %d %d %d %d curveto closepath fill\n" %
                                tuple(pts))
                    elif kind == 1:
                        f.write("%d setlinewidth %d %d moveto %d %d lineto %d %d lineto "
                                "stroke\n" % (1 + pts[7] % 6, *pts[:6]))
                    else:
                        f.write("/Helvetica findfont %d scalefont setfont %d %d moveto "
                                "(page %d shape %d) show\n" % (4 + pts[0] % 40, pts[1], pts[2],
                                                               page, pts[3]))
                # The only black: a rectangle on whole pixels, right of the shapes.
                w, h = rng.randrange(5, 100), rng.randrange(5, 280)
                x, y = rng.randrange(190, self.SIDE - w), rng.randrange(5, self.SIDE - h)
                f.write("0 setgray %d %d %d %d rectfill\nshowpage\n" % (x, y, w, h))
                black.append(w * h)
        args = ["-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pgmraw", "-r72",
                "-sOutputFile=-", path]
        return args, black

    def check(self, out, expected):
        try:
            pages = pgm_pages(out)
        except ValueError as e:
            return "its output is not a sequence of PGM pages: %s" % e
        if len(pages) != len(expected):
            return "%d page(s) rendered, expected %d" % (len(pages), len(expected))
        for i, ((w, h, pixels), want) in enumerate(zip(pages, expected)):
            if (w, h) != (self.SIDE, self.SIDE):
                return "page %d is %dx%d, expected %dx%d" % (i + 1, w, h, self.SIDE, self.SIDE)
            if pixels.count(0) != want:
                return "page %d has %d black pixels, expected %d" % (i + 1, pixels.count(0), want)
        return None


def pgm_pages(data):
    """The pages of a stream of binary PGM images: (width, height, pixels)."""
    pages, i = [], 0
    while i < len(data):
        fields = []
        while len(fields) < 4:
            if i >= len(data):
                raise ValueError("a header ends early")
            c = data[i:i + 1]
            if c == b"#":
                end = data.find(b"\n", i)
                i = len(data) if end < 0 else end
            elif c.isspace():
                i += 1
            else:
                m = re.compile(rb"\S+").match(data, i)
                fields.append(m.group())
                i = m.end()
        if fields[0] != b"P5" or fields[3] != b"255":
            raise ValueError("a header says %r" % b" ".join(fields))
        w, h = int(fields[1]), int(fields[2])
        i += 1
        if i + w * h > len(data):
            raise ValueError("page %d is cut short" % (len(pages) + 1))
        pages.append((w, h, data[i:i + w * h]))
        i += w * h
    return pages


class Z3(Program):
    name, binary = "z3", "/usr/bin/z3"
    stresses = ("an SMT solver on Boolean clauses mixed with integer difference "
                "constraints: clause learning, theory propagation, many small terms")
    sizes = {"tiny": dict(booleans=300, clauses=900, integers=60, differences=200),
             "quick": dict(booleans=800, clauses=2000, integers=150, differences=500),
             "full": dict(booleans=2000, clauses=4800, integers=400, differences=1300)}

    def generate(self, work, size, rng):
        """A satisfiable problem by construction: a hidden assignment, and
        clauses that it meets.  A clause is three literals over Booleans and
        difference atoms x_i - x_j <= c; at least one literal holds under the
        hidden assignment (a clause that fails it gets one literal negated)."""
        p = self.sizes[size]
        nb, ni = p["booleans"], p["integers"]
        hidden_b = [rng.random() < 0.5 for _ in range(nb)]
        hidden_x = [rng.randrange(0, 50) for _ in range(ni)]

        def literal(kind):
            if kind == "b":
                return ["b", rng.randrange(nb), rng.random() < 0.5]
            i, j = rng.sample(range(ni), 2)
            return ["d", (i, j, hidden_x[i] - hidden_x[j] + rng.randrange(-3, 3)),
                    rng.random() < 0.5]

        def holds(lit, b, x):
            kind, what, positive = lit
            v = b[what] if kind == "b" else x[what[0]] - x[what[1]] <= what[2]
            return v == positive

        clauses = []
        for k in range(p["clauses"] + p["differences"]):
            kinds = "bbb" if k < p["clauses"] else "bdd"
            clause = [literal(kd) for kd in kinds]
            if not any(holds(lit, hidden_b, hidden_x) for lit in clause):
                clause[rng.randrange(3)][2] ^= True
            clauses.append(clause)

        def smt(lit):
            kind, what, positive = lit
            if kind == "b":
                atom = "b%d" % what
            else:
                c = what[2]
                atom = "(<= (- x%d x%d) %s)" % (what[0], what[1],
                                                c if c >= 0 else "(- %d)" % -c)
            return atom if positive else "(not %s)" % atom

        path = os.path.join(work, "problem.smt2")
        names = ["b%d" % v for v in range(nb)] + ["x%d" % v for v in range(ni)]
        with open(path, "w") as f:
            f.write("; generated by heaplab scripts/programs.py\n(set-logic QF_IDL)\n")
            for v in range(nb):
                f.write("(declare-const b%d Bool)\n" % v)
            for v in range(ni):
                f.write("(declare-const x%d Int)\n(assert (and (>= x%d 0) (<= x%d 49)))\n" %
                        (v, v, v))
            for c in clauses:
                f.write("(assert (or %s))\n" % " ".join(smt(lit) for lit in c))
            f.write("(check-sat)\n(get-value (%s))\n" % " ".join(names))
        return ["-smt2", path], (nb, ni, clauses, holds)

    def check(self, out, expected):
        nb, ni, clauses, holds = expected
        text = out.decode(errors="replace")
        if not text.startswith("sat\n"):
            return "printed %r, expected sat and a model" % text[:60]
        b, x = {}, {}
        for m in re.finditer(r"\(b(\d+) (true|false)\)", text):
            b[int(m.group(1))] = m.group(2) == "true"
        for m in re.finditer(r"\(x(\d+) (\(- (\d+)\)|\d+)\)", text):
            x[int(m.group(1))] = -int(m.group(3)) if m.group(3) else int(m.group(2))
        if len(b) != nb or len(x) != ni:
            return "the model gives %d of %d Booleans, %d of %d integers" % (len(b), nb,
                                                                            len(x), ni)
        if any(not 0 <= v <= 49 for v in x.values()):
            return "the model breaks a bound 0 <= x <= 49"
        for i, clause in enumerate(clauses):
            if not any(holds(lit, b, x) for lit in clause):
                return "the model breaks clause %d" % (i + 1)
        return None


PROGRAMS = OrderedDict((p.name, p) for p in (Sqlite(), Lua(), Python(), Pymalloc(),
                                             Ghostscript(), Z3()))


def first_difference(got, want):
    """The first differing line of two texts, for a one-line message."""
    g, w = got.splitlines(), want.splitlines()
    for i in range(max(len(g), len(w))):
        a = g[i] if i < len(g) else "<end>"
        b = w[i] if i < len(w) else "<end>"
        if a != b:
            return a[:60], b[:60]
    return got[:60], want[:60]


# ============================================================== running == #

class Failure(Exception):
    """Bad input: one line, exit 2."""


def find_bench(given):
    for path in ([given] if given else [os.path.join(TOP, "build", "heaplab"),
                                        os.path.join(TOP, "bench")]):
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise Failure("no heaplab binary (build/heaplab): run make build, or give --bench PATH")


def check_binary(prog):
    """Debian's ELF binary itself, never a wrapper: the proof must look at the
    program that allocates."""
    path = prog.binary
    if not os.path.isfile(path):
        raise Failure("%s is not installed (%s missing): run scripts/install-deps.sh programs"
                      % (prog.name, path))
    with open(os.path.realpath(path), "rb") as f:
        if f.read(4) != b"\x7fELF":
            raise Failure("%s is not an ELF executable: the proof could not see its allocator"
                          % path)
    return os.path.realpath(path)


def program_env(prog):
    env = dict(os.environ)
    for k, v in prog.env.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def run_program(args, prog, bench, out_dir, expected_override):
    """Generate prog's input, run it under every allocator, check each run.
    Returns the program's record for summary.json."""
    image = check_binary(prog)
    raw = os.path.join(out_dir, "raw", prog.name)
    work = os.path.join(out_dir, "work", prog.name)
    for d in (raw, work):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    stdout_dir = os.path.join(work, "stdout")
    rng = random.Random("%s/%d" % (prog.name, args.seed))
    prog_args, expected = prog.generate(work, args.size, rng)
    if expected_override is not None:
        expected = expected_override(expected)
    cmd = [bench, "--allocator=" + ",".join(args.allocators),
           "--repetitions=%d" % args.repetitions, "--sample-hz=%d" % args.sample_hz,
           "--out=" + raw, "--program-stdout=" + stdout_dir, "--", prog.binary] + prog_args
    print("programs: %s (%s): %s" % (prog.name, prog.describe_input(args.size),
                                      " ".join(cmd[1:])), flush=True)
    proc = subprocess.run(cmd, env=program_env(prog), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith(("rep ", "note ", "skip ", "bench:")):
            print("  " + line)
    m = re.search(r"^results: (.*)\.json, ", proc.stdout, re.M)
    record = OrderedDict(name=prog.name, binary=prog.binary, image=image,
                         stresses=prog.stresses, input=prog.describe_input(args.size),
                         env={k: v for k, v in prog.env.items()}, command=cmd[1:], runs=[],
                         problems=[])
    if m is None or proc.returncode == 2:
        record["problems"].append("bench wrote no results (exit %d): %s" %
                                  (proc.returncode, proc.stdout.strip().splitlines()[-1:]))
        return record
    with open(m.group(1) + ".json") as f:
        doc = json.load(f)
    record["results"] = os.path.relpath(m.group(1) + ".json", out_dir)
    for row in doc["benchmarks"]:
        record["runs"].append(check_run(prog, image, row, expected))
    seen = {r["allocator"] for r in record["runs"]}
    for a in args.allocators:
        if a not in seen:
            record["problems"].append("no run under %s" % a)
    for skipped in doc.get("skipped", []):
        record["problems"].append("%s skipped: %s" % (skipped["name"], skipped["reason"]))
    record["samples"] = rss_series(m.group(1) + ".samples.csv")
    if not record["problems"] and all(r["ok"] for r in record["runs"]):
        shutil.rmtree(stdout_dir, ignore_errors=True)  # checked; large for gs
    return record


def check_run(prog, image, row, expected):
    """One run's figures and the verdicts on it: ran, proven, answered right."""
    run = OrderedDict((k, row.get(k)) for k in (
        "allocator", "repetition_index", "seconds", "user_seconds", "sys_seconds", "rss_peak",
        "minor_faults", "major_faults", "allocator_version", "preload_verified",
        "preload_evidence"))
    problems = []
    if row.get("error_occurred"):
        problems.append("failed: %s" % row.get("error_message"))
    proven = bool(row.get("preload_verified")) and \
        (" in %s at the last check" % image) in (row.get("preload_evidence") or "")
    if not proven:
        problems.append("allocator not proven in %s: %s" % (image, row.get("preload_evidence")))
    answer = None
    path = row.get("stdout_file")
    if path is None or not os.path.isfile(path):
        answer = "no stdout file kept"
    elif not row.get("error_occurred"):
        with open(path, "rb") as f:
            answer = prog.check(f.read(), expected)
    if answer is not None:
        problems.append("wrong output: %s" % answer)
    if row.get("user_seconds") is not None and row.get("sys_seconds") is not None:
        run["cpu_seconds"] = row["user_seconds"] + row["sys_seconds"]
    else:
        run["cpu_seconds"] = None
    run["proven"] = proven
    run["output_ok"] = answer is None
    run["ok"] = not problems
    run["problems"] = problems
    return run


def rss_series(path):
    """name -> [(t_s, rss_bytes)] from bench's .samples.csv (one series per
    run, named by its row and repetition); empty when the file is missing."""
    series = OrderedDict()
    if not os.path.isfile(path):
        return series
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r.get("rss_bytes"):
                series.setdefault(r["name"], []).append((float(r["t_s"]), float(r["rss_bytes"])))
    return series


# ============================================================ summaries == #

# (figure, its label): cpu_seconds is user + sys, which a machine shared
# with other jobs inflates much less than wall time.
FIGURES = (("seconds", "time"), ("cpu_seconds", "CPU time"), ("rss_peak", "peak RSS"),
           ("minor_faults", "page faults"))


def summarize(record):
    """Per allocator: median, min and max of each figure over the runs that
    succeeded, and each median relative to glibc's.  A figure with no
    successful run is absent, never zero."""
    out = OrderedDict()
    for a in ALLOCATORS:
        runs = [r for r in record["runs"] if r["allocator"] == a and r["seconds"] is not None
                and not any(p.startswith("failed") for p in r["problems"])]
        if not any(r["allocator"] == a for r in record["runs"]):
            continue
        s = OrderedDict(runs=len([r for r in record["runs"] if r["allocator"] == a]),
                        proven=all(r["proven"] for r in record["runs"] if r["allocator"] == a),
                        output_ok=all(r["output_ok"] for r in record["runs"]
                                      if r["allocator"] == a))
        versions = {r["allocator_version"] for r in record["runs"] if r["allocator"] == a}
        s["allocator_version"] = ", ".join(sorted(v for v in versions if v)) or None
        for key, _ in FIGURES:
            vals = [float(r[key]) + (float(r["major_faults"] or 0) if key == "minor_faults"
                                     else 0) for r in runs if r[key] is not None]
            if vals:
                s[key] = OrderedDict(median=statistics.median(vals), min=min(vals),
                                     max=max(vals))
        out[a] = s
    base = out.get("glibc", {})
    for a, s in out.items():
        for key, _ in FIGURES:
            if key in s and key in base and base[key]["median"] > 0:
                s[key]["vs_glibc"] = s[key]["median"] / base[key]["median"]
    return out


def fmt_ratio(s, key):
    v = s.get(key, {}).get("vs_glibc")
    return "" if v is None else "%.2f" % v


def write_table(out_dir, records, header):
    """table.md: one row per program and allocator, then what each program
    stresses.  Returns the text."""
    lines = [header, "",
             "| program | allocator | time (s) | ×glibc | CPU (s) | ×glibc | peak RSS (MiB) | "
             "×glibc | page faults | ×glibc | proven | output |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: | :---: |"]
    for rec in records:
        for a, s in rec["summary"].items():
            t, r, f = s.get("seconds"), s.get("rss_peak"), s.get("minor_faults")
            c = s.get("cpu_seconds")
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                rec["name"], a,
                "%.3f" % t["median"] if t else "", fmt_ratio(s, "seconds"),
                "%.3f" % c["median"] if c else "", fmt_ratio(s, "cpu_seconds"),
                "%.1f" % (r["median"] / 2 ** 20) if r else "", fmt_ratio(s, "rss_peak"),
                "%d" % f["median"] if f else "", fmt_ratio(s, "minor_faults"),
                "yes" if s["proven"] else "**NO**", "right" if s["output_ok"] else "**WRONG**"))
    lines += ["", "Medians over the repetitions; ×glibc is the median relative to glibc's "
              "(below 1 is less time, memory or faults).  time is wall time, CPU is user + "
              "sys; page faults are minor + major, all from wait4.  *proven*: every run's allocator library was seen mapped in the "
              "program's own image (docs/program.md); *output*: every run printed the answer "
              "computed by the generator (docs/programs.md).", ""]
    lines += ["| program | what it stresses |", "| --- | --- |"]
    lines += ["| %s | %s |" % (rec["name"], rec["stresses"]) for rec in records]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out_dir, "table.md"), "w") as f:
        f.write(text)
    return text


# ================================================================ plots == #

def gp_string(s):
    return '"%s"' % str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def plot_program(out_dir, rec, subtitle):
    """NAME.png and NAME.svg: bars relative to glibc and RSS over time
    (plots/programs.gp)."""
    gnuplot = shutil.which("gnuplot")
    if gnuplot is None:
        return "gnuplot missing (scripts/install-deps.sh)"
    allocs = [a for a in rec["summary"] if "seconds" in rec["summary"][a]]
    if "glibc" not in allocs:
        return "no successful glibc run to relate to"
    work = os.path.join(out_dir, "work", rec["name"])
    bars = os.path.join(work, "bars.dat")
    base = rec["summary"]["glibc"]
    with open(bars, "w") as f:
        for ai, a in enumerate(allocs):        # one block per allocator
            s = rec["summary"][a]
            for gi, (key, _) in enumerate(FIGURES):
                if key in s and key in base:
                    b = base[key]["median"]
                    f.write("%d %d %r %r %r\n" % (gi, ai, s[key]["median"] / b,
                                                  s[key]["min"] / b, s[key]["max"] / b))
                else:
                    f.write("%d %d NaN NaN NaN\n" % (gi, ai))
            f.write("\n\n")
    rss = os.path.join(work, "rss.dat")
    with open(rss, "w") as f:
        for a in allocs:   # the run with the median time of each allocator
            runs = sorted((r for r in rec["runs"] if r["allocator"] == a
                           and r["seconds"] is not None), key=lambda r: r["seconds"])
            pick = runs[(len(runs) - 1) // 2]
            name = "program/%s/%s/-/rep%d" % (os.path.basename(rec["binary"]), a,
                                              pick["repetition_index"])
            for t, b in rec["samples"].get(name, []):
                f.write("%r %r\n" % (t, b / 2 ** 20))
            f.write("\n\n")
    for fmt in ("png", "svg"):
        out = os.path.join(out_dir, "%s.%s" % (rec["name"], fmt))
        values = OrderedDict(fmt=fmt, out=out, width=1100, height=520, bars=bars, rss=rss,
                             title="%s under each allocator" % rec["name"],
                             subtitle=subtitle)
        var_lines = ["%s = %s" % (k, v if isinstance(v, int) else gp_string(v))
                     for k, v in values.items()]
        var_lines.append("array alloc_name[%d] = [%s]" % (len(allocs), ", ".join(
            gp_string(a) for a in allocs)))
        var_lines.append("array alloc_color[%d] = [%s]" % (len(allocs), ", ".join(
            gp_string(ALLOCATOR_COLORS.get(a, "#7f7f7f")) for a in allocs)))
        var_lines.append("array figure_name[%d] = [%s]" % (len(FIGURES), ", ".join(
            gp_string(label) for _, label in FIGURES)))
        var_path = os.path.join(work, "plot.%s.gp" % fmt)
        with open(var_path, "w") as f:
            f.write("\n".join(var_lines) + "\n")
        proc = subprocess.run([gnuplot, var_path, os.path.join(TOP, "plots", "common.gp"),
                               os.path.join(TOP, "plots", "programs.gp")],
                              capture_output=True, text=True)
        if proc.returncode != 0 or not os.path.isfile(out):
            return "gnuplot failed: %s" % " | ".join(proc.stderr.strip().splitlines()[-3:])
    return None


# ================================================================= main == #

def parse_args(argv):
    """The command line, checked: a Failure (one line, exit 2) names what
    is wrong and what is valid."""
    ap = argparse.ArgumentParser(
        description="Run Debian programs on generated inputs under every system allocator; "
                    "check their output; write a table and plots (docs/programs.md).")
    ap.add_argument("--size", choices=("tiny", "quick", "full"), default="full",
                    help="input size: tiny (tests), quick (under 2 minutes), full (default)")
    ap.add_argument("--quick", action="store_const", const="quick", dest="size",
                    help="the same as --size quick")
    ap.add_argument("--repetitions", type=int, default=None,
                    help="runs per program and allocator (default: tiny 1, quick 3, full 5)")
    ap.add_argument("--programs", default="all",
                    help="comma list of: %s (default all)" % ", ".join(PROGRAMS))
    ap.add_argument("--allocators", default=",".join(ALLOCATORS),
                    help="comma list (default %s)" % ",".join(ALLOCATORS))
    ap.add_argument("--seed", type=int, default=1, help="the generators' seed (default 1)")
    ap.add_argument("--sample-hz", type=int, default=None,
                    help="RSS samples per second (default: tiny 1000, else 200)")
    ap.add_argument("--out", default=os.path.join(TOP, "results", "programs"),
                    help="output directory (default results/programs)")
    ap.add_argument("--bench", help="the heaplab binary (default build/heaplab)")
    # Tests only: expect a wrong answer from one program, to prove the check bites.
    ap.add_argument("--plant-wrong-answer", metavar="PROGRAM", help=argparse.SUPPRESS)
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        raise SystemExit(2 if e.code else 0)
    names = list(PROGRAMS) if args.programs == "all" else args.programs.split(",")
    for n in names:
        if n not in PROGRAMS:
            raise Failure("--programs: unknown program '%s'; valid: %s" %
                          (n, ", ".join(PROGRAMS)))
    args.names = names
    args.allocators = args.allocators.split(",")
    for a in args.allocators:
        if a not in ALLOCATORS:
            raise Failure("--allocators: '%s' cannot run a program; valid: %s" %
                          (a, ", ".join(ALLOCATORS)))
    if "glibc" not in args.allocators:
        raise Failure("--allocators must include glibc: every figure is relative to it")
    if args.repetitions is None:
        args.repetitions = DEFAULT_REPETITIONS[args.size]
    if not 1 <= args.repetitions <= 100:
        raise Failure("--repetitions must be 1 to 100, not %d" % args.repetitions)
    if args.sample_hz is None:
        args.sample_hz = DEFAULT_SAMPLE_HZ[args.size]
    if not 1 <= args.sample_hz <= 10000:
        raise Failure("--sample-hz must be 1 to 10000, not %d" % args.sample_hz)
    if args.plant_wrong_answer and args.plant_wrong_answer not in names:
        raise Failure("--plant-wrong-answer: '%s' is not among --programs"
                      % args.plant_wrong_answer)
    return args


def plant(expected):
    """A wrong expected answer of the same kind, for the test of the checks."""
    if isinstance(expected, str):
        return expected.replace("1", "2", 1) if "1" in expected else expected + "0\n"
    if isinstance(expected, list):
        return [expected[0] + 1] + expected[1:]
    nb, ni, clauses, holds = expected          # z3: demand b0 and not b0 as well
    return nb, ni, clauses + [[["b", 0, True]], [["b", 0, False]]], holds


def main(argv):
    """Every selected program in turn, then the table, plots and summary.
    Returns the exit status (module docstring)."""
    try:
        args = parse_args(argv)
        bench = find_bench(args.bench)
        for n in args.names:
            check_binary(PROGRAMS[n])
        os.makedirs(args.out, exist_ok=True)
    except Failure as e:
        print("programs: %s" % e, file=sys.stderr)
        return 2
    bench = os.path.abspath(bench)
    out_dir = os.path.abspath(args.out)
    records = []
    for n in args.names:
        prog = PROGRAMS[n]
        override = plant if args.plant_wrong_answer == n else None
        rec = run_program(args, prog, bench, out_dir, override)
        rec["summary"] = summarize(rec)
        records.append(rec)
        bad = [p for r in rec["runs"] for p in r["problems"]] + rec["problems"]
        for p in bad:
            print("programs: %s: %s" % (n, p), file=sys.stderr)
    command = "scripts/programs.py " + " ".join(argv) if argv else "scripts/programs.py"
    header = ("Real programs under each allocator: `%s` (size %s, %d repetition(s), seed %d) "
              "on %s, %d CPUs." % (command.strip(), args.size, args.repetitions, args.seed,
                                   cpython_compare.cpu_model("unknown CPU"), os.cpu_count() or 0))
    text = write_table(out_dir, records, header)
    subtitle = "size %s, %d repetition(s); bars: median relative to glibc, whiskers min..max" \
        % (args.size, args.repetitions)
    notes = []
    for rec in records:
        why = plot_program(out_dir, rec, subtitle)
        if why:
            notes.append("%s: no plot: %s" % (rec["name"], why))
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump(OrderedDict(command=command, size=args.size, repetitions=args.repetitions,
                              seed=args.seed, cpu=cpython_compare.cpu_model("unknown CPU"),
                              programs=[{k: v for k, v in r.items() if k != "samples"}
                                        for r in records]), f, indent=1)
    print(text)
    for n in notes:
        print("programs: %s" % n, file=sys.stderr)
    failed = [r["name"] for r in records
              if r["problems"] or not r["runs"] or not all(x["ok"] for x in r["runs"])]
    if failed:
        print("programs: FAILED: %s (see above; summary.json has every check)"
              % ", ".join(failed), file=sys.stderr)
        return 1
    print("programs: every run ran, was proven and printed the right answer; results in %s"
          % os.path.relpath(out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
