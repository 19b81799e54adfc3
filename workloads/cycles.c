/*
 * cycles.c - `--workload=cycles`: reference cycles, the garbage that
 * reference counting cannot see.
 *
 * The lesson: an object that refers to itself through others (a.other = b,
 * b.other = a; a node's parent pointer; a doubly linked list) keeps a
 * reference count above zero after the program has dropped it, so pure
 * reference counting never frees it.  CPython added its cycle collector for
 * exactly this; a tracing collector never had the problem.  Run it under
 * `refcount` and leaked bytes grow with the work; under `cycle`, `tracing`
 * and `marksweep` they are zero; under `manual` the program breaks each
 * cycle by hand and frees every node, which is what refcount-only code must
 * do (or use weak references for the back pointers).
 *
 * One op = one structure built, linked and, with its batch, checked and
 * dropped.  `batch` structures are built and kept alive, then all of them
 * are dropped together.  What reclaims them is the collector's own policy:
 * CPython's thresholds (700/10/10 and the long-lived rule, --gc-threshold),
 * Boehm's heap growth, marksweep's growth rule.  The workload forces no
 * collection (collect=0, the default), so that policy is what is measured.
 *
 * With collect=1, where the collector frees cycles, the workload calls one
 * full collection itself after each dropped batch and times it, as the
 * CPython benchmark times gc.collect():
 *
 *     class Node: pass
 *     for i in range(500000): a, b = Node(), Node(); a.other = b; b.other = a
 *     del ...; t = time.perf_counter(); gc.collect(); ...
 *
 * which here is
 *
 *     bench --workload=cycles --collector=cycle --param variant=pairs \
 *           --param batch=500000 --param ops=500000 --param collect=1 \
 *           --gc-threshold=0,0,0
 *
 * (thresholds 0: automatic collection off, like gc.disable()).
 * scripts/cpython_compare.py builds the same graphs in CPython under the
 * same variant names and parameters (docs/cpython.md).
 *
 * Variants (the shape of one structure):
 *
 *     variant  nodes  refs/node  links
 *     pairs      2      1        a.other = b, b.other = a
 *     rings      8      1        n[i].next = n[(i+1) % 8]
 *     dlist     16      2        n[i].next = n[i+1], n[i+1].prev = n[i]
 *     tree      15      3        binary tree of depth 4: left, right, parent
 *
 * and the same four with `-fin`: every node's type has a finalizer
 * (hl_type.finalize, PEP 442's tp_finalize; CPython: a class with __del__)
 * that does a small fixed amount of work, counting the call and adding the
 * node's cookie to a sum.  A plain node has 8 bytes of data (its cookie), a
 * finalizable one 16 (its cookie and its run's epoch, below).
 *
 * Each node's data is a cookie derived from the seed, the structure's serial
 * number and the node's position.  Before a batch is dropped every structure
 * is walked from its root, its links checked against the shape and its
 * cookies against the expected values; the cookies are folded into the
 * checksum, which is therefore the same under every collector and
 * allocator, and the same for a shape with and without finalizers.
 * Finalizer calls are not in the checksum: whether and when a collector
 * runs them is the collector's business (manual and refcount never find a
 * cycle dead).
 *
 * Figures (wl_*): structures, objects; with collect=1: collections,
 * collect_ns (their total time), collect_objects (objects they freed, from
 * the collector's objects_freed), and collect_ns_per_object;
 * build_ns_per_object (building and linking only: allocation, stores,
 * dropping the locals, and any automatic collection the allocations
 * trigger); -fin variants: finalized, the finalizer calls for this run's
 * nodes up to the end of finish() (garbage left for the harness's closing
 * collection is finalized after it and not counted).  A finalizer called
 * twice for one node fails the run: more calls than nodes, or, when there
 * is one call per node, a sum of cookies other than the nodes' own.
 *
 * Parameters: ops (structures per run), batch (structures alive before a
 * drop), collect (0: the collector's own triggers only; 1: one timed full
 * collection after each drop); seed from --seed.  Sources: CPython's gc
 * documentation and the gc.collect() measurement of
 * ../shared/reference/cpython-memory.md; pyperformance's gc_collect builds
 * cyclic structures the same way.
 */
#include "common/clock.h"
#include "workloads/rng.h"
#include "workloads/workload.h"

#include <inttypes.h>
#include <stdlib.h>

enum { CYCLES_OPS, CYCLES_BATCH, CYCLES_COLLECT };

static const hl_param_spec cycles_params[] = {
    [CYCLES_OPS] = {"ops", "structures built and dropped per run", 200000, 10000, 1,
                    INT64_C(1000000000000)},
    [CYCLES_BATCH] = {"batch", "structures alive before all of them are dropped together", 100,
                      100, 1, 100000000},
    [CYCLES_COLLECT] = {"collect", "1: one timed full collection after each dropped batch (as "
                        "gc.collect()); 0: the collector's own triggers only", 0, 0, 0, 1},
};

/* The four shapes, then the same four with finalizers: variant v has shape
 * v % CYCLES_NSHAPES. */
enum { CYCLES_PAIRS, CYCLES_RINGS, CYCLES_DLIST, CYCLES_TREE, CYCLES_NSHAPES };

static const hl_variant_spec cycles_variants[] = {
    {"pairs", "two objects referencing each other (a.other = b, b.other = a)"},
    {"rings", "a ring of 8 objects"},
    {"dlist", "a doubly linked list of 16 nodes (next, prev)"},
    {"tree", "a binary tree of depth 4 (15 nodes) with parent pointers"},
    {"pairs-fin", "pairs of objects with a finalizer (CPython: __del__)"},
    {"rings-fin", "rings of 8 objects with a finalizer"},
    {"dlist-fin", "doubly linked lists of 16 objects with a finalizer"},
    {"tree-fin", "trees of 15 objects with parent pointers and a finalizer"},
};

#define CYCLES_MAX_NODES 16
#define CYCLES_MAX_REFS 3
#define CYCLES_NONE (-1)

/* One structure's shape: for node k and field f, the node that field links
 * to, or CYCLES_NONE.  Every node k > 0 is linked from some node j < k, so
 * walking the nodes in order from the root discovers each before it is a
 * source; verification relies on it. */
typedef struct cycles_shape {
    uint32_t nodes, nrefs;
    int8_t link[CYCLES_MAX_NODES][CYCLES_MAX_REFS];
} cycles_shape;

static const hl_type cycles_node_type = {.name = "cycles.node"};

/* A finalizable node's data. */
typedef struct cycles_fin_data {
    uint64_t cookie;
    uint64_t epoch; /* the run that built it */
} cycles_fin_data;

/* Where finalizers count.  Not in the run's state: a collector may finalize
 * a node after finish() freed that state (the harness's closing collection,
 * a finalizer Boehm GC runs in a later collection), so the sink outlives
 * every run.  Each run takes a new epoch; a call for another run's node is
 * ignored.  Single-threaded, as every collector that runs cycles. */
static struct {
    uint64_t epoch;
    uint64_t calls;
    uint64_t cookie_sum; /* mod 2^64: the same whatever the order of calls */
} cycles_fin_sink;

/* PEP 442's tp_finalize of a finalizable node: count the call and add the
 * cookie, a fixed and tiny amount of work, like a __del__ that bumps a
 * counter.  It resurrects nothing. */
static void cycles_finalize(const hl_gc *gc, hl_object *o)
{
    (void)gc;
    cycles_fin_data d;
    __builtin_memcpy(&d, hl_object_data(o), sizeof d);
    if (d.epoch != cycles_fin_sink.epoch)
        return;
    cycles_fin_sink.calls++;
    cycles_fin_sink.cookie_sum += d.cookie;
}

static const hl_type cycles_fin_node_type = {.name = "cycles.fin_node",
                                             .finalize = cycles_finalize};

typedef struct cycles {
    const hl_gc *gc;
    int manual;       /* the workload frees what it drops */
    int collect;      /* the collector reclaims cycles and collect=1: collect after
                         each drop */
    cycles_shape shape;
    int finalizable;      /* a -fin variant */
    const hl_type *type;  /* of every node */
    uint32_t data_size;   /* of every node */
    uint64_t seed;
    uint64_t total;   /* structures to build in the run */
    uint32_t batch;
    hl_object **roots; /* the batch: one workload reference to each root */
    uint32_t filled;
    uint64_t batch_first; /* serial number of roots[0] */
    uint64_t built;       /* structures built so far */
    uint64_t checksum;
    uint64_t cookie_sum;  /* of every node verified, mod 2^64 */
    uint64_t build_ns, collect_ns, collect_objects, collections;
} cycles;

static uint64_t cycles_ops(const hl_workload_config *cfg)
{
    return (uint64_t)cfg->params[CYCLES_OPS];
}

/* The link table of `variant`. */
static cycles_shape cycles_make_shape(size_t variant)
{
    cycles_shape s;
    for (int k = 0; k < CYCLES_MAX_NODES; k++)
        for (int f = 0; f < CYCLES_MAX_REFS; f++)
            s.link[k][f] = CYCLES_NONE;
    switch (variant) {
    case CYCLES_PAIRS:
        s.nodes = 2, s.nrefs = 1;
        s.link[0][0] = 1;
        s.link[1][0] = 0;
        break;
    case CYCLES_RINGS:
        s.nodes = 8, s.nrefs = 1;
        for (int k = 0; k < 8; k++)
            s.link[k][0] = (int8_t)((k + 1) % 8);
        break;
    case CYCLES_DLIST:
        s.nodes = 16, s.nrefs = 2;
        for (int k = 0; k + 1 < 16; k++) {
            s.link[k][0] = (int8_t)(k + 1); /* next */
            s.link[k + 1][1] = (int8_t)k;   /* prev */
        }
        break;
    default: /* CYCLES_TREE: heap order, children of k at 2k+1 and 2k+2 */
        s.nodes = 15, s.nrefs = 3;
        for (int k = 0; 2 * k + 2 < 15; k++) {
            s.link[k][0] = (int8_t)(2 * k + 1); /* left */
            s.link[k][1] = (int8_t)(2 * k + 2); /* right */
            s.link[2 * k + 1][2] = (int8_t)k;   /* parent */
            s.link[2 * k + 2][2] = (int8_t)k;
        }
        break;
    }
    return s;
}

static inline uint64_t cycles_cookie(const cycles *c, uint64_t serial, uint32_t node)
{
    return hl_mix64(c->seed ^ (serial * CYCLES_MAX_NODES + node));
}

/* Build structure number `serial` and keep one reference to its root in
 * roots[filled].  Every node is allocated first, so a failed allocation
 * leaves no cycle behind. */
static int cycles_build(cycles *c, uint64_t serial, hl_error *err)
{
    const cycles_shape *s = &c->shape;
    const uint64_t epoch = cycles_fin_sink.epoch;
    hl_object *n[CYCLES_MAX_NODES];
    for (uint32_t k = 0; k < s->nodes; k++) {
        n[k] = hl_new(c->gc, c->type, s->nrefs, c->data_size);
        if (__builtin_expect(n[k] == NULL, 0)) {
            for (uint32_t j = 0; j < k; j++) {
                hl_release(c->gc, n[j]);
                if (c->manual)
                    hl_free_object(c->gc, n[j]);
            }
            return hl_fail(err, "out of memory: node %u of structure %" PRIu64, k, serial);
        }
        /* Fixed-size stores, never a call: this is the build's hot loop. */
        void *data = hl_object_data(n[k]);
        uint64_t cookie = cycles_cookie(c, serial, k);
        if (c->finalizable)
            *(cycles_fin_data *)data = (cycles_fin_data){cookie, epoch};
        else
            *(uint64_t *)data = cookie;
    }
    for (uint32_t k = 0; k < s->nodes; k++)
        for (uint32_t f = 0; f < s->nrefs; f++)
            if (s->link[k][f] != CYCLES_NONE)
                hl_store(c->gc, n[k], f, n[s->link[k][f]]);
    for (uint32_t k = 1; k < s->nodes; k++)
        hl_release(c->gc, n[k]); /* the structure holds them now */
    c->roots[c->filled++] = n[0];
    return 0;
}

/* Walk structure `serial` from its root into n[], checking every link
 * against the shape and every cookie, and fold the cookies into the
 * checksum.  Returns 0, or -1 with err set. */
static int cycles_verify(cycles *c, hl_object *root, uint64_t serial, hl_object **n,
                         hl_error *err)
{
    const cycles_shape *s = &c->shape;
    for (uint32_t k = 0; k < s->nodes; k++)
        n[k] = NULL;
    n[0] = root;
    for (uint32_t k = 0; k < s->nodes; k++) {
        if (n[k] == NULL || n[k]->nrefs != s->nrefs)
            return hl_fail(err, "structure %" PRIu64 ": node %u is missing or malformed",
                           serial, k);
        for (uint32_t f = 0; f < s->nrefs; f++) {
            int t = s->link[k][f];
            hl_object *got = n[k]->refs[f];
            int bad = t == CYCLES_NONE ? got != NULL
                                       : (got == NULL || (n[t] != NULL && got != n[t]));
            if (bad)
                return hl_fail(err, "structure %" PRIu64 ": node %u field %u links to %p, "
                               "not node %d", serial, k, f, (void *)got, t);
            if (t != CYCLES_NONE && n[t] == NULL)
                n[t] = got;
        }
        uint64_t cookie;
        __builtin_memcpy(&cookie, hl_object_data(n[k]), sizeof cookie);
        if (cookie != cycles_cookie(c, serial, k))
            return hl_fail(err, "structure %" PRIu64 ": node %u holds cookie %016" PRIx64
                           ", expected %016" PRIx64, serial, k, cookie,
                           cycles_cookie(c, serial, k));
        c->checksum = (c->checksum ^ cookie) * 0x100000001b3ull;
        c->cookie_sum += cookie;
    }
    return 0;
}

/* Check and drop every structure of the batch.  Under manual each cycle is
 * broken by hand and its nodes freed; otherwise the root reference is
 * released, which leaves each cycle garbage with counts above zero.  Then,
 * where the collector reclaims cycles, one timed full collection. */
static int cycles_drop_batch(cycles *c, hl_error *err)
{
    const cycles_shape *s = &c->shape;
    int rc = 0;
    for (uint32_t i = 0; i < c->filled; i++) {
        hl_object *n[CYCLES_MAX_NODES];
        hl_error later; /* the first failure is the one reported */
        hl_error *e = rc == 0 ? err : &later;
        int ok = cycles_verify(c, c->roots[i], c->batch_first + i, n, e) == 0;
        if (!ok)
            rc = -1;
        if (c->manual && ok) {
            for (uint32_t k = 0; k < s->nodes; k++)
                for (uint32_t f = 0; f < s->nrefs; f++)
                    hl_store(c->gc, n[k], f, NULL);
            for (uint32_t k = 0; k < s->nodes; k++)
                hl_free_object(c->gc, n[k]);
        } else {
            hl_release(c->gc, c->roots[i]); /* manual: a corrupt structure is left alone */
        }
        c->roots[i] = NULL;
    }
    c->batch_first += c->filled;
    c->filled = 0;
    if (c->collect) {
        hl_gc_stats before = {0}, after = {0};
        c->gc->ops->stats(c->gc->ctx, &before);
        uint64_t t0 = hl_now_ns();
        hl_collect(c->gc, -1);
        uint64_t t1 = hl_now_ns();
        c->gc->ops->stats(c->gc->ctx, &after);
        c->collect_ns += t1 - t0;
        c->collect_objects += after.objects_freed - before.objects_freed;
        c->collections++;
    }
    return rc;
}

/* The finalizer oracle: at most one call per node of this run, and when
 * every node was finalized, the sum of the cookies the calls saw is the
 * sum of the nodes' cookies.  Returns 0, or -1 with err set. */
static int cycles_check_finalized(const cycles *c, uint64_t objects, hl_error *err)
{
    if (cycles_fin_sink.calls > objects)
        return hl_fail(err, "%" PRIu64 " finalizer calls for %" PRIu64 " nodes: a node was "
                       "finalized more than once", cycles_fin_sink.calls, objects);
    if (cycles_fin_sink.calls == objects && cycles_fin_sink.cookie_sum != c->cookie_sum)
        return hl_fail(err, "one finalizer call per node, but the calls saw other cookies "
                       "(%016" PRIx64 ", expected %016" PRIx64 "): some node was finalized "
                       "twice and another never", cycles_fin_sink.cookie_sum, c->cookie_sum);
    return 0;
}

static int cycles_setup(const hl_workload_config *cfg, void **state, hl_error *err)
{
    cycles *c = calloc(1, sizeof *c);
    if (c == NULL)
        return hl_fail(err, "out of memory for the cycles state");
    c->gc = cfg->gc;
    c->manual = hl_gc_is_manual(cfg->gc);
    c->collect = (cfg->gc->ops->flags & HL_GC_FREES_CYCLES) != 0 &&
                 cfg->params[CYCLES_COLLECT] != 0;
    c->shape = cycles_make_shape(cfg->variant % CYCLES_NSHAPES);
    c->finalizable = cfg->variant >= CYCLES_NSHAPES;
    c->type = c->finalizable ? &cycles_fin_node_type : &cycles_node_type;
    c->data_size = c->finalizable ? sizeof(cycles_fin_data) : sizeof(uint64_t);
    cycles_fin_sink.epoch++;
    cycles_fin_sink.calls = cycles_fin_sink.cookie_sum = 0;
    c->seed = cfg->seed;
    c->total = (uint64_t)cfg->params[CYCLES_OPS];
    uint64_t batch = (uint64_t)cfg->params[CYCLES_BATCH];
    c->batch = (uint32_t)(batch < c->total ? batch : c->total);
    c->roots = hl_untracked_alloc(sizeof(hl_object *) * c->batch);
    if (c->roots == NULL) {
        free(c);
        return hl_fail(err, "out of memory for a batch of %" PRIu64 " roots", batch);
    }
    *state = c;
    return 0;
}

static int cycles_step(void *state, uint64_t n, hl_error *err)
{
    cycles *c = state;
    while (n > 0) {
        uint64_t room = c->batch - c->filled;
        uint64_t k = n < room ? n : room;
        uint64_t t0 = hl_now_ns();
        for (uint64_t i = 0; i < k; i++)
            if (cycles_build(c, c->batch_first + c->filled, err) != 0)
                return -1; /* finish() drops what was built */
        c->build_ns += hl_now_ns() - t0;
        c->built += k;
        n -= k;
        if ((c->filled == c->batch || c->built == c->total) && cycles_drop_batch(c, err) != 0)
            return -1;
    }
    return 0;
}

static int cycles_finish(void *state, hl_workload_result *res, hl_error *err)
{
    cycles *c = state;
    int rc = 0;
    if (c->filled > 0)
        rc = cycles_drop_batch(c, err);
    uint64_t objects = c->built * c->shape.nodes;
    res->ops = c->built;
    res->checksum = c->checksum;
    hl_stats_add(&res->figures, "structures", "count", (double)c->built);
    hl_stats_add(&res->figures, "objects", "count", (double)objects);
    if (objects > 0)
        hl_stats_add(&res->figures, "build_ns_per_object", "ns",
                     (double)c->build_ns / (double)objects);
    if (c->finalizable) {
        hl_stats_add(&res->figures, "finalized", "count", (double)cycles_fin_sink.calls);
        if (rc == 0)
            rc = cycles_check_finalized(c, objects, err);
    }
    if (c->collections > 0) {
        hl_stats_add(&res->figures, "collections", "count", (double)c->collections);
        hl_stats_add(&res->figures, "collect_ns", "ns", (double)c->collect_ns);
        hl_stats_add(&res->figures, "collect_objects", "count", (double)c->collect_objects);
        if (c->collect_objects > 0)
            hl_stats_add(&res->figures, "collect_ns_per_object", "ns",
                         (double)c->collect_ns / (double)c->collect_objects);
    }
    hl_untracked_free(c->roots, sizeof(hl_object *) * c->batch);
    free(c);
    return rc;
}

static const hl_workload_ops cycles_ops_table = {
    .name = "cycles",
    .description = "reference cycles built and dropped: refcount leaks them, a cycle "
                   "collector or tracing frees them",
    .default_collector = "cycle",
    .params = cycles_params,
    .nparams = sizeof cycles_params / sizeof cycles_params[0],
    .variants = cycles_variants,
    .nvariants = sizeof cycles_variants / sizeof cycles_variants[0],
    .ops = cycles_ops,
    .setup = cycles_setup,
    .step = cycles_step,
    .finish = cycles_finish,
};

const hl_workload_ops *hl_cycles_workload(void)
{
    return &cycles_ops_table;
}
