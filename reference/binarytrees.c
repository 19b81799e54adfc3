/*
 * binarytrees.c - the plain C reference for trees/binarytrees: what the
 * benchmark costs with no harness, no method tables and no object model.
 *
 * It is the Computer Language Benchmarks Game's binary-trees as C programs
 * write it: a node is two pointers, trees are built by recursion and freed
 * by recursion.  The work is the one heaplab's trees/binarytrees does at
 * the same depth N (min depth 4, max depth max(6, N)):
 *   1. a stretch tree of depth max+1, built, checked, freed;
 *   2. a long-lived tree of depth max, kept to the end;
 *   3. for d = 4, 6, ..., max: 2^(max-d+4) trees of depth d, each built,
 *      checked (check = node count) and freed;
 *   4. the long-lived tree checked last.
 * It prints the Benchmarks Game's lines, so its checks can be set against
 * heaplab's check_d* figures, and then two lines the benchmark command
 * reads: "malloc_from PATH", the library that really served malloc (the
 * proof that a preload took), and "nodes N seconds S ns_per_node X".
 *
 * Built three times (CMakeLists.txt): with malloc/free; with -DREF_GC_MALLOC,
 * where nodes come from Boehm GC's GC_MALLOC and nothing is freed by hand
 * (the program the tracing collector is set against); and with
 * -DREF_OBJECT_LAYOUT, where a node is laid out as heaplab's object model
 * lays out a trees node (a type pointer, nrefs and data_size, the two
 * references, 8 bytes of data holding a per-depth cookie, 40 bytes) and the
 * check verifies each cookie and the shape as heaplab's walk does.  The
 * third is not a target: set against the first it says what the object
 * model's fields and the cookie cost in plain C, and set against heaplab it
 * leaves the harness's own share (docs/perf.md).  Two more builds add the
 * fields one at a time, so that each one's cost can be read off
 * (REF_OBJECT_LAYOUT=1: the type pointer and the references, 24 bytes;
 * =2: also nrefs and data_size, 32 bytes; the third build is =3, all of it).
 * Without the cookie a node's check is its shape alone.  And once more with
 * both REF_GC_MALLOC and REF_OBJECT_LAYOUT=3: the layout under GC_MALLOC,
 * what the object model costs Boehm (the tracing target's bound).  Under
 * the malloc
 * build, the allocator is whatever serves malloc: the benchmark command
 * LD_PRELOADs each system allocator, as heaplab's own cells do.
 *
 * Usage: ref-binarytrees[-gc] DEPTH
 */
#define _GNU_SOURCE /* dladdr, clock_gettime */

#include "reference/ref.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef REF_GC_MALLOC
#include <gc.h>
#define NODE_ALLOC(size) GC_MALLOC(size)
#define NODE_FREE(p) ((void)(p))
#else
#define NODE_ALLOC(size) malloc(size)
#define NODE_FREE(p) free(p)
#endif

#ifdef REF_OBJECT_LAYOUT
/* heaplab's hl_object with nrefs 2 and data_size 8 (collectors/collector.h),
 * its fields up to REF_OBJECT_LAYOUT: 1 the type, 2 the sizes, 3 the
 * cookie (the data). */
typedef struct node {
    const void *type;
#if REF_OBJECT_LAYOUT >= 2
    uint32_t nrefs, data_size;
#endif
    struct node *left, *right;
#if REF_OBJECT_LAYOUT >= 3
    uint64_t cookie;
#endif
} node;
static const char node_type[] = "tree_node";
#if REF_OBJECT_LAYOUT >= 3
static uint64_t cookie_of(int d)
{
    return 0x2545f4914f6cdd1dull ^ ((uint64_t)(d + 1) * 0x9e3779b97f4a7c15ull);
}
#endif
#else
typedef struct node {
    struct node *left, *right;
} node;
#endif

static uint64_t nodes_made;

/* A complete tree of depth d (d = 0: one node).  Exits on out of memory. */
static node *make(int d)
{
    node *n = NODE_ALLOC(sizeof *n);
    if (n == NULL) {
        fprintf(stderr, "ref-binarytrees: out of memory after %llu nodes\n",
                (unsigned long long)nodes_made);
        exit(1);
    }
    nodes_made++;
#ifdef REF_OBJECT_LAYOUT
    n->type = node_type;
#if REF_OBJECT_LAYOUT >= 2
    n->nrefs = 2;
    n->data_size = 8;
#endif
#if REF_OBJECT_LAYOUT >= 3
    n->cookie = cookie_of(d);
#endif
#endif
    if (d > 0) {
        n->left = make(d - 1);
        n->right = make(d - 1);
    } else {
        n->left = n->right = NULL;
    }
    return n;
}

/* The node count of the tree at n (the Benchmarks Game's check). */
#ifdef REF_OBJECT_LAYOUT
static int cookie_ok(const node *n, int d)
{
#if REF_OBJECT_LAYOUT >= 3
    return n->cookie == cookie_of(d);
#else
    (void)n;
    (void)d;
    return 1;
#endif
}

static uint64_t check_at(const node *n, int d)
{
    if (!cookie_ok(n, d) || (n->left != NULL) != (d > 0) || (n->right != NULL) != (d > 0)) {
        fprintf(stderr, "ref-binarytrees: corrupted node %p\n", (const void *)n);
        exit(1);
    }
    return d == 0 ? 1 : 1 + check_at(n->left, d - 1) + check_at(n->right, d - 1);
}
#define check(n, d) check_at(n, d)
#else
static uint64_t check_at(const node *n)
{
    return n->left == NULL ? 1 : 1 + check_at(n->left) + check_at(n->right);
}
#define check(n, d) check_at(n)
#endif

static void drop(node *n)
{
#ifndef REF_GC_MALLOC
    if (n->left != NULL) {
        drop(n->left);
        drop(n->right);
    }
#endif
    NODE_FREE(n);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10;
    if (argc != 2 || n < 1 || n > 24) {
        fprintf(stderr, "usage: %s DEPTH (1-24)\n", argv[0]);
        return 2;
    }
#ifdef REF_GC_MALLOC
    GC_INIT();
#endif
    int min = 4, max = n > min + 2 ? n : min + 2;
    double t0 = ref_now_s();

    node *stretch = make(max + 1);
    printf("stretch tree of depth %d\t check: %llu\n", max + 1,
           (unsigned long long)check(stretch, max + 1));
    drop(stretch);

    node *long_lived = make(max);
    for (int d = min; d <= max; d += 2) {
        uint64_t iterations = UINT64_C(1) << (max - d + min), sum = 0;
        for (uint64_t i = 0; i < iterations; i++) {
            node *t = make(d);
            sum += check(t, d);
            drop(t);
        }
        printf("%llu\t trees of depth %d\t check: %llu\n", (unsigned long long)iterations, d,
               (unsigned long long)sum);
    }
    printf("long lived tree of depth %d\t check: %llu\n", max,
           (unsigned long long)check(long_lived, max));
    drop(long_lived);

    double s = ref_now_s() - t0;
    printf("malloc_from %s\n", ref_malloc_owner());
    printf("nodes %llu seconds %.6f ns_per_node %.3f\n", (unsigned long long)nodes_made, s,
           s * 1e9 / (double)nodes_made);
    return 0;
}
