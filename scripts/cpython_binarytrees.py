#!/usr/bin/env python3
"""cpython_binarytrees.py - binary-trees in CPython itself, for setting
heaplab's cycle collector against the collector it models (docs/perf.md).

Usage: scripts/cpython_binarytrees.py DEPTH [--no-gc]

The Benchmarks Game's binary-trees (stretch tree, long-lived tree, then
2^(max-d+4) trees of each depth d from 4 to max in steps of 2), with a node
class of two __slots__ (a tracked container with no __dict__, the closest
CPython object to heaplab's two-reference node).  It prints the checks,
the CPU seconds of the whole run, and the collections per generation that
CPython's gc ran meanwhile (gc.get_stats()).  --no-gc runs it under
gc.disable(): reference counting alone, heaplab's `refcount`.

Run it with Debian's /usr/bin/python3 (3.11), the CPython heaplab's cycle
collector follows.
"""
import gc
import sys
import time


class Node:
    __slots__ = ("left", "right")

    def __init__(self, left, right):
        self.left = left
        self.right = right


def make(d):
    return Node(make(d - 1), make(d - 1)) if d > 0 else Node(None, None)


def check(n):
    return 1 if n.left is None else 1 + check(n.left) + check(n.right)


def main(argv):
    if not 1 <= len(argv) <= 2 or not argv[0].isdigit() or not 4 <= int(argv[0]) <= 22 or \
            (len(argv) == 2 and argv[1] != "--no-gc"):
        print("usage: cpython_binarytrees.py DEPTH (4-22) [--no-gc]", file=sys.stderr)
        return 2
    if len(argv) == 2:
        gc.disable()
    mx = max(6, int(argv[0]))
    gc.collect()
    base = [s["collections"] for s in gc.get_stats()]
    t0 = time.process_time()
    print("stretch tree of depth %d\t check: %d" % (mx + 1, check(make(mx + 1))))
    long_lived = make(mx)
    for d in range(4, mx + 1, 2):
        iterations = 2 ** (mx - d + 4)
        print("%d\t trees of depth %d\t check: %d" % (
            iterations, d, sum(check(make(d)) for _ in range(iterations))))
    print("long lived tree of depth %d\t check: %d" % (mx, check(long_lived)))
    cpu = time.process_time() - t0
    print("cpu_seconds %.3f" % cpu)
    print("collections", " ".join(str(s["collections"] - b) for s, b in zip(gc.get_stats(), base)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
