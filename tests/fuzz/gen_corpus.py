#!/usr/bin/env python3
"""gen_corpus.py - write the seed corpora under tests/fuzz/corpus/ and
fuzz_cli's dictionary, tests/fuzz/fuzz_cli.dict.

usage: tests/fuzz/gen_corpus.py            (rewrites them all; deterministic)

Each seed is a small hand-written scenario in the input format that the
target's header comment documents.  For fuzz_collectors, operands are chosen
by position in lists the target rebuilds after every operation (reachable
objects, rooted ones, ...), so a tiny model of the target's shadow (Graph
below) turns "store b into a's field 0" into the bytes that mean it.  The
seeds are a starting point for mutation, not tests: whatever a fuzzing run
adds stays out of the repository (tests/fuzz/run.sh works on a copy).
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes(data))


# ---------------------------------------------------------------- fuzz_pool --

def size(n, sel=1):
    """SIZE: selector 1 gives 1 + v % 512; 0 is size 0; 6 is 513 + v % 4096;
    7 is v % 16385; 5 is a class edge."""
    if sel == 1:
        assert 1 <= n <= 512
        return [1] + list(struct.pack("<H", n - 1))
    if sel == 0:
        return [0, 0, 0]
    if sel == 6:
        return [6] + list(struct.pack("<H", n - 513))
    if sel == 7:
        return [7] + list(struct.pack("<H", n))
    raise ValueError(sel)


def alloc(sz):
    return [0] + sz


def free(slot):
    return [2] + list(struct.pack("<H", slot))


def realloc(slot, sz):
    return [3] + list(struct.pack("<H", slot)) + sz


def burst_alloc(count8, sz):
    return [4, count8] + sz  # 1 + 8 x count8 blocks


def burst_free(first, count8):
    return [5] + list(struct.pack("<H", first)) + [count8]


INSPECT, CHECK_ALL = [6], [7]


def pool_seeds():
    # One block of every class, checked, inspected, freed in reverse.
    ops = []
    for c in range(32):
        ops += alloc(size(16 * c + 1 + c % 16))
    ops += CHECK_ALL + INSPECT
    for slot in range(31, -1, -1):
        ops += free(slot)
    ops += INSPECT
    write("pool", "every-class", ops)

    # Enough 512-byte blocks for two arenas, then all freed: one arena stays.
    ops = burst_alloc(255, size(512)) + burst_alloc(255, size(512)) + INSPECT
    ops += burst_free(0, 255) + INSPECT + burst_free(0, 255) + INSPECT
    write("pool", "two-arenas", ops)

    # A block walking through realloc: in place, across classes, to the
    # malloc fallback and back, to zero.
    ops = alloc(size(100)) + realloc(0, size(90)) + realloc(0, size(300))
    ops += realloc(0, size(600, 6)) + realloc(0, size(5000, 7)) + realloc(0, size(40))
    ops += realloc(0, size(0, 0)) + realloc(0, size(512)) + CHECK_ALL + INSPECT
    write("pool", "realloc-walk", ops)

    # The fallback: size 0 and sizes past 512, mixed with pool blocks.
    ops = alloc(size(0, 0)) + alloc(size(513, 6)) + alloc(size(16)) + alloc(size(16384, 7))
    ops += alloc(size(0, 0)) + INSPECT + free(1) + free(0) + INSPECT + CHECK_ALL
    write("pool", "fallback", ops)

    # Class edges (selector 5), churned: fill, free every other, refill.
    ops = []
    for v in range(0, 96, 5):
        ops += alloc([5, v, v])
    ops += burst_free(3, 1) + burst_alloc(2, [5, 7, 1]) + INSPECT
    write("pool", "class-edges", ops)


# ---------------------------------------------------------- fuzz_collectors --

MANUAL, REFCOUNT, CYCLE, MARKSWEEP = range(4)
POOL, ARENA, GLIBC = range(3)
LIVE, MAYBE, DEAD = range(3)


class Graph:
    """The target's shadow, as far as picking operands needs it."""

    def __init__(self, collector, allocator, config=1):
        self.c = collector
        self.bytes = [collector, allocator, config]
        self.nodes = []  # dicts: refs, roots, weak, fate, freed, reach

    def settle(self, full=False):
        for n in self.nodes:
            n["reach"] = n["roots"] > 0 and n["fate"] != DEAD
        queue = [i for i, n in enumerate(self.nodes) if n["reach"]]
        while queue:
            for t in self.nodes[queue.pop(0)]["refs"]:
                if t is not None and not self.nodes[t]["reach"]:
                    self.nodes[t]["reach"] = True
                    queue.append(t)
        held = self.cycle_held() if self.c in (REFCOUNT, CYCLE) else set()
        for i, n in enumerate(self.nodes):
            if n["reach"]:
                n["fate"] = LIVE
            elif n["fate"] != DEAD:
                if self.c == MANUAL:
                    n["fate"] = DEAD if n["freed"] else LIVE
                elif self.c == REFCOUNT:
                    n["fate"] = LIVE if i in held else DEAD
                elif self.c == CYCLE:
                    n["fate"] = MAYBE if i in held and not full else DEAD
                else:
                    n["fate"] = DEAD if full else MAYBE

    def cycle_held(self):
        cand = {i for i, n in enumerate(self.nodes) if not n["reach"] and n["fate"] != DEAD}
        indeg = {i: 0 for i in cand}
        for i in cand:
            for t in self.nodes[i]["refs"]:
                if t in cand:
                    indeg[t] += 1
        queue = [i for i in cand if indeg[i] == 0]
        while queue:
            i = queue.pop()
            cand.discard(i)
            for t in self.nodes[i]["refs"]:
                if t in cand:
                    indeg[t] -= 1
                    if indeg[t] == 0:
                        queue.append(t)
        return cand

    def reachable(self):
        return [i for i, n in enumerate(self.nodes) if n["reach"]]

    def rooted(self):
        return [i for i, n in enumerate(self.nodes) if n["reach"] and n["roots"] > 0]

    def add(self, nrefs, weak=False):
        self.nodes.append(dict(refs=[None] * nrefs, roots=1, weak=weak, fate=LIVE,
                               freed=False, reach=True))
        self.settle()
        return len(self.nodes) - 1

    def new(self, nrefs, data, traversed=False):
        self.bytes += [0, nrefs, data, int(traversed)]
        return self.add(nrefs)

    def store(self, src, field, dst):
        sources = [i for i in self.reachable() if self.nodes[i]["refs"]]
        reach = self.reachable()
        self.bytes += [2, sources.index(src), field, 0 if dst is None else 1 + reach.index(dst)]
        self.nodes[src]["refs"][field] = dst
        self.settle()

    def retain(self, i):
        self.bytes += [4, self.reachable().index(i)]
        self.nodes[i]["roots"] += 1
        self.settle()

    def release(self, i):
        self.bytes += [5, self.rooted().index(i)]
        self.nodes[i]["roots"] -= 1
        self.settle()

    def free(self, i):
        """manual: free garbage i; others: drop every root of i."""
        if self.c == MANUAL:
            garbage = [k for k, n in enumerate(self.nodes)
                       if not n["reach"] and n["fate"] == LIVE]
            self.bytes += [6, garbage.index(i)]
            self.nodes[i]["freed"] = True
        else:
            self.bytes += [6, self.rooted().index(i)]
            self.nodes[i]["roots"] = 0
        self.settle()

    def weak_new(self, target, callback=True):
        self.bytes += [7, self.reachable().index(target), int(callback)]
        return self.add(0, weak=True)

    def weak_get(self, w):
        weaks = [i for i, n in enumerate(self.nodes) if n["weak"] and n["fate"] == LIVE]
        self.bytes += [8, weaks.index(w)]

    def collect(self, generation=-1):
        self.bytes += [9, generation + 1]
        full = self.c == MARKSWEEP or (self.c == CYCLE and generation in (-1, 2))
        self.settle(full)


def collector_seeds():
    names = ["manual", "refcount", "cycle", "marksweep"]
    allocators = [POOL, ARENA, GLIBC, POOL]
    for c, name in enumerate(names):
        # A two-object cycle with a weak reference on each end, dropped.
        g = Graph(c, allocators[c])
        a = g.new(1, 24)
        b = g.new(2, 8, traversed=True)
        g.store(a, 0, b)
        g.store(b, 0, a)
        g.store(b, 1, b)
        wa = g.weak_new(a, callback=True)
        wb = g.weak_new(b, callback=False)
        g.release(a)
        g.collect(0)
        g.weak_get(wa)
        g.release(b)
        if c == MANUAL:
            g.free(a)
            g.free(b)
        g.collect(-1)
        g.weak_get(wa)
        g.weak_get(wb)
        write("collectors", "cycle-" + name, g.bytes)

        # A chain released at its head, with retains and stores along it.
        g = Graph(c, allocators[(c + 1) % 3], config=0b10000110)  # thresholds 3, 1
        nodes = [g.new(2, 16 + 8 * k, traversed=k % 2 == 1) for k in range(6)]
        for k in range(5):
            g.store(nodes[k], 0, nodes[k + 1])
        g.retain(nodes[3])
        w = g.weak_new(nodes[5], callback=True)
        for k in range(1, 6):
            g.release(nodes[k])
        g.collect(1)
        g.release(nodes[0])
        if c == MANUAL:
            for k in (0, 1, 2):
                g.free(nodes[k])
        g.weak_get(w)
        if c == MANUAL:
            g.release(nodes[3])
            for k in (3, 4, 5):
                g.free(nodes[k])
        else:
            g.free(nodes[3])
        g.collect(2)
        g.weak_get(w)
        write("collectors", "chain-" + name, g.bytes)

    # Objects of every shape, some garbage left to the final teardown.
    g = Graph(CYCLE, GLIBC, config=0b00000010)  # generation 0 every object
    objs = [g.new(k % 7, (k * 13) % 81) for k in range(14)]
    for k in range(13):
        if g.nodes[objs[k]]["refs"]:
            g.store(objs[k], 0, objs[(k * 5) % 14])
    for k in range(0, 14, 3):
        g.release(objs[k])
    g.collect(0)
    write("collectors", "shapes-cycle", g.bytes)


# ----------------------------------------------------------------- fuzz_cli --

def cli_seeds():
    seeds = {
        "run": ["--allocator=pool,arena", "--workload=churn", "--quick"],
        "list": ["--list"],
        "help": ["-h"],
        "compare": ["--compare", "results/baseline", "results/regress",
                    "--thresholds=t.json", "--report=r.md"],
        "export": ["--export-action=out.json", "results"],
        "cell": ["--run-cell", "--cell-out=cell.json", "--workload=cycles",
                 "--allocator=pool", "--collector=cycle"],
        "gc": ["--collector=cycle,marksweep", "--workload=cycles", "--gc-threshold=700,10,10",
               "--gc-long-lived=off", "--param", "variant=rings"],
        "params": ["--workload=churn", "--param", "ops=100", "--param=live=10",
                   "--seed=7", "--repetitions=3", "--min-time=0.5", "--timeout=60",
                   "--sample-hz=50"],
        "misc": ["--allocator=all", "--collector=all", "--workload=all", "--decorate=slow",
                 "--instructions", "--out=res"],
        "bad": ["--allocator=nope,pool", "--param", "x", "--seed=-1", "-hq"],
    }
    for name, words in seeds.items():
        write("cli", name, "\n".join(words).encode())
    # NUL separates words too.
    write("cli", "nul-separated", b"--workload=churn\0--allocator=glibc\0--quick")


def cli_dict():
    """fuzz_cli.dict: every long option (from harness/options.c) and every
    registered name (from the sources' .name fields), for libFuzzer -dict."""
    import glob
    import re
    root = os.path.dirname(os.path.dirname(HERE))
    with open(os.path.join(root, "harness", "options.c")) as f:
        options = re.findall(r'\{"([a-z-]+)", (no|required)_argument', f.read())
    entries = ["--" + name + ("=" if kind == "required" else "") for name, kind in options]
    names = set()
    for d in ("allocators", "collectors", "workloads"):
        for path in sorted(glob.glob(os.path.join(root, d, "*.c"))):
            with open(path) as f:
                names.update(re.findall(r'\.name = "([a-z0-9_]+)"', f.read()))
            with open(path) as f:  # parameter and variant names
                names.update(re.findall(r'^\s*\[[A-Z0-9_]+\] = \{"([a-z0-9_]+)"', f.read(), re.M))
    entries += sorted(names) + ["all", ",", "=", "-h", "--", "700,10,10", "on", "off"]
    with open(os.path.join(HERE, "fuzz_cli.dict"), "w") as f:
        f.write("# fuzz_cli's libFuzzer dictionary; written by gen_corpus.py, do not edit.\n")
        for e in entries:
            f.write('"%s"\n' % e)


if __name__ == "__main__":
    pool_seeds()
    collector_seeds()
    cli_seeds()
    cli_dict()
