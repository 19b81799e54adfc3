/*
 * stress_graph.c - the stress workload's graph engine: the graph variant
 * (see stress.c for the workload, stress.h for the cookie pattern both
 * engines share).  NOT a benchmark.
 *
 *   graph    the object model under cfg->gc, every collector.  `slots` root
 *            slots hold objects with 0-4 reference fields and 8-4096 bytes
 *            of cookie-filled data.  Ops: new objects into empty slots (75%)
 *            or another slot's object retained there (25%); on a full slot,
 *            drop it (25%, checked first), store an object reached from one
 *            root into a field of one reached from another (35%), hang a new
 *            child on a reached object (10%), verify a reached object (10%),
 *            make or drop a weak reference (8%), read one back (11.9%),
 *            collect (0.1%, a random generation or everything).  A shadow of
 *            the graph (node table outside the measured heap) says what each
 *            object must hold; the workload never follows a pointer it read
 *            from the heap, so a corrupted object cannot lead it astray.
 *            After each collection it marks the shadow from the roots,
 *            checks every object it reaches (type, sizes, every reference,
 *            every data byte), forgets the rest - and under manual frees
 *            them, as a C program frees what it knows is unreachable - and
 *            reads every weak reference: one whose target a root holds must
 *            read that target; under manual one whose target was freed must
 *            read NULL; and any target a weak reference still returns must
 *            be intact (wl_weak_alive counts such targets the workload no
 *            longer held: the collector had not freed them yet).  Everything
 *            reachable is checked once more at the end.  Always one thread:
 *            heaplab's collectors are single-threaded, so `threads` is
 *            ignored here.
 *
 * Checksum: the graph folds what each check read, in the shadow's order,
 * which no collector changes.
 */
#include "workloads/stress.h"

#include <inttypes.h>
#include <string.h>

#define GRAPH_MAX_REFS 4
#define GRAPH_NONE (-1)

static const hl_type graph_type = {.name = "stress"};

/* What the workload knows of one object.  Invariant: a node in use whose
 * refs[f] names node j has node j in use too (nodes are forgotten only by
 * graph_sweep, and only when no reachable node names them). */
typedef struct graph_node {
    hl_object *obj;    /* NULL: on the free list */
    uint64_t id;       /* creation number: names the data's cookie */
    uint32_t nrefs, data_size;
    int32_t refs[GRAPH_MAX_REFS]; /* node of each field's target, or GRAPH_NONE */
    uint32_t roots;    /* root slots holding it */
    uint32_t mark;     /* epoch of the last shadow mark that reached it */
    int32_t next_free;
    int bad;           /* found corrupted: counted once, never freed by us */
} graph_node;

/* A weak reference the workload holds, and what it was made to. */
typedef struct graph_weak {
    hl_object *ref; /* NULL: the slot is empty */
    hl_object *target;
    uint64_t target_id;
    int32_t target_node;
} graph_weak;

struct stress_graph {
    const hl_gc *gc;
    int manual;
    uint64_t seed;
    hl_rng rng;
    uint32_t nroots, nweak;
    int32_t *roots;     /* node held by each root slot, or GRAPH_NONE */
    graph_weak *weak;
    graph_node *nodes;
    int32_t *stack;     /* the shadow mark's work list, as long as nodes */
    uint32_t cap;
    int32_t free_head;
    uint32_t epoch;
    uint64_t next_id;
    uint64_t ops_done;
    uint64_t checksum;
    uint64_t count[SC_COUNT];
    stress_fault fault;
};

static uint64_t graph_cookie(const stress_graph *g, uint64_t id)
{
    return stress_cookie(g->seed, id, UINT64_C(0x6772617068)); /* "graph" */
}

/* Double the node table (and the mark stack).  Returns 0 or -1. */
static int graph_grow(stress_graph *g)
{
    uint32_t cap = g->cap ? 2 * g->cap : 1024;
    graph_node *nodes = hl_untracked_alloc((size_t)cap * sizeof *nodes);
    int32_t *stack = hl_untracked_alloc((size_t)cap * sizeof *stack);
    if (nodes == NULL || stack == NULL) {
        hl_untracked_free(nodes, (size_t)cap * sizeof *nodes);
        hl_untracked_free(stack, (size_t)cap * sizeof *stack);
        return -1;
    }
    if (g->cap > 0)
        memcpy(nodes, g->nodes, (size_t)g->cap * sizeof *nodes);
    for (uint32_t i = cap; i-- > g->cap;) {
        nodes[i].next_free = g->free_head;
        g->free_head = (int32_t)i;
    }
    hl_untracked_free(g->nodes, (size_t)g->cap * sizeof *g->nodes);
    hl_untracked_free(g->stack, (size_t)g->cap * sizeof *g->stack);
    g->nodes = nodes;
    g->stack = stack;
    g->cap = cap;
    return 0;
}

/* How graph_check accounts for a check: checks that every collector makes
 * alike are counted and folded; the others (weak references to objects a
 * collector may or may not have freed yet) are neither. */
enum { GRAPH_FOLD = 1u << 0, GRAPH_COUNT = 1u << 1, GRAPH_ALIKE = GRAPH_FOLD | GRAPH_COUNT };

/* Check one object against its node: type, sizes, every reference, every
 * data byte.  A node found bad is counted once and skipped afterwards.
 * Returns 0 when intact. */
static int graph_check(stress_graph *g, int32_t idx, unsigned how)
{
    graph_node *n = &g->nodes[idx];
    if (n->bad)
        return -1;
    hl_object *o = n->obj;
    if (how & GRAPH_COUNT)
        g->count[SC_CHECKED]++;
    if (o->type != &graph_type || o->nrefs != n->nrefs || o->data_size != n->data_size) {
        hl_stress_fault_note(&g->fault, "object %" PRIu64 ": header says type %p, %u refs, %u data "
                          "bytes; expected %p, %u, %u", n->id, (const void *)o->type, o->nrefs,
                          o->data_size, (const void *)&graph_type, n->nrefs, n->data_size);
        n->bad = 1;
        return -1;
    }
    for (uint32_t f = 0; f < n->nrefs; f++) {
        hl_object *want = n->refs[f] == GRAPH_NONE ? NULL : g->nodes[n->refs[f]].obj;
        if (o->refs[f] != want) {
            hl_stress_fault_note(&g->fault, "object %" PRIu64 ": refs[%u] is %p, expected %p",
                              n->id, f, (void *)o->refs[f], (void *)want);
            n->bad = 1;
            return -1;
        }
    }
    uint64_t cookie = graph_cookie(g, n->id), sum;
    const unsigned char *data = hl_object_data(o);
    size_t bad = stress_check(data, n->data_size, cookie, &sum);
    if (bad != SIZE_MAX) {
        hl_stress_fault_note(&g->fault, "object %" PRIu64 ", data byte %zu: expected 0x%02x got "
                          "0x%02x", n->id, bad, stress_expected_byte(cookie, bad), data[bad]);
        n->bad = 1;
        return -1;
    }
    if (how & GRAPH_FOLD)
        g->checksum = stress_fold(g->checksum, sum ^ n->id);
    return 0;
}

/* A new object of random shape held by one root reference (node returned),
 * or GRAPH_NONE when memory is exhausted (err set). */
static int32_t graph_new(stress_graph *g, hl_error *err)
{
    if (g->free_head == GRAPH_NONE && graph_grow(g) != 0) {
        hl_fail(err, "out of memory for the shadow graph (%u nodes)", g->cap);
        return GRAPH_NONE;
    }
    uint64_t r = hl_rng_next(&g->rng), r2 = hl_rng_next(&g->rng);
    uint32_t nrefs = hl_rng_below((uint32_t)r, GRAPH_MAX_REFS + 1);
    /* 8-256 data bytes, 1 in 50 up to 4 KiB; whole words, so an object's
     * last bytes are always its data. */
    int big = hl_rng_below((uint32_t)(r >> 32), 50) == 0;
    uint32_t data_size = 8 * (1 + hl_rng_below((uint32_t)r2, big ? 512 : 32));
    hl_object *o = hl_new(g->gc, &graph_type, nrefs, data_size);
    if (o == NULL) {
        hl_fail(err, "out of memory: new object (%u refs, %u data bytes) failed after %" PRIu64
                " operations", nrefs, data_size, g->ops_done);
        return GRAPH_NONE;
    }
    int32_t idx = g->free_head;
    graph_node *n = &g->nodes[idx];
    g->free_head = n->next_free;
    *n = (graph_node){.obj = o, .id = g->next_id++, .nrefs = nrefs, .data_size = data_size,
                      .refs = {GRAPH_NONE, GRAPH_NONE, GRAPH_NONE, GRAPH_NONE}, .roots = 1,
                      .mark = g->epoch};
    stress_fill(hl_object_data(o), data_size, graph_cookie(g, n->id));
    g->checksum = stress_fold(g->checksum, n->id ^ data_size ^ nrefs);
    return idx;
}

/* From root slot `slot`, follow up to 3 random references of the shadow;
 * the node reached (reachable by construction), or GRAPH_NONE for an empty
 * slot. */
static int32_t graph_walk(const stress_graph *g, uint32_t slot, uint64_t r)
{
    int32_t idx = g->roots[slot];
    unsigned depth = r & 3;
    r >>= 2;
    for (unsigned d = 0; d < depth && idx != GRAPH_NONE; d++, r >>= 8) {
        const graph_node *n = &g->nodes[idx];
        if (n->nrefs == 0)
            break;
        int32_t next = n->refs[(r & 0xff) % n->nrefs];
        if (next == GRAPH_NONE)
            break;
        idx = next;
    }
    return idx;
}

/* Drop one root reference to node idx (the object is checked first). */
static void graph_unroot(stress_graph *g, int32_t idx)
{
    graph_check(g, idx, GRAPH_ALIKE);
    hl_release(g->gc, g->nodes[idx].obj);
    g->nodes[idx].roots--;
}

/* Read weak slot w back.  Its target must be what it was made to or NULL;
 * NULL is wrong while a root holds the target and required under manual
 * once the target was freed; a target still returned must be intact. */
static void graph_weak_check(stress_graph *g, graph_weak *w, int swept)
{
    hl_object *got = hl_weak_get(g->gc, w->ref);
    graph_node *n = &g->nodes[w->target_node];
    int known = n->obj == w->target && n->id == w->target_id;
    int held = known && (n->roots > 0 || (swept && n->mark == g->epoch));
    if (got != NULL && got != w->target) {
        hl_stress_fault_note(&g->fault, "weak reference to object %" PRIu64 " reads %p, expected "
                          "%p or NULL", w->target_id, (void *)got, (void *)w->target);
        return;
    }
    if (got == NULL) {
        if (held)
            hl_stress_fault_note(&g->fault, "weak reference to object %" PRIu64 " reads NULL "
                              "while the object is reachable", w->target_id);
        return;
    }
    if (g->manual && !known) {
        hl_stress_fault_note(&g->fault, "weak reference to object %" PRIu64 " still reads it "
                          "after manual freed it", w->target_id);
        return;
    }
    if (held) {
        g->checksum = stress_fold(g->checksum, w->target_id);
        graph_check(g, w->target_node, GRAPH_COUNT);
        return;
    }
    /* Alive, though the workload no longer holds it: check what it can. */
    g->count[SC_WEAK_ALIVE]++;
    if (known) {
        graph_check(g, w->target_node, 0);
        return;
    }
    uint64_t sum;
    if (got->type != &graph_type ||
        stress_check(hl_object_data(got), got->data_size, graph_cookie(g, w->target_id), &sum) !=
            SIZE_MAX)
        hl_stress_fault_note(&g->fault, "object %" PRIu64 ", still returned by a weak reference, "
                          "is corrupted", w->target_id);
}

/* Mark the shadow from the roots, checking each object reached, in an
 * order no collector changes; forget every node not reached (under manual,
 * free its object); read back every weak reference.  Cost: O(nodes). */
static void graph_sweep(stress_graph *g)
{
    uint32_t epoch = ++g->epoch, top = 0;
    for (uint32_t s = 0; s < g->nroots; s++) {
        int32_t idx = g->roots[s];
        if (idx == GRAPH_NONE || g->nodes[idx].mark == epoch)
            continue;
        g->nodes[idx].mark = epoch;
        g->stack[top++] = idx;
        while (top > 0) {
            graph_node *n = &g->nodes[g->stack[--top]];
            graph_check(g, (int32_t)(n - g->nodes), GRAPH_ALIKE);
            for (uint32_t f = 0; f < n->nrefs; f++) {
                int32_t j = n->refs[f];
                if (j != GRAPH_NONE && g->nodes[j].mark != epoch) {
                    g->nodes[j].mark = epoch;
                    g->stack[top++] = j;
                }
            }
        }
    }
    for (uint32_t i = 0; i < g->cap; i++) {
        graph_node *n = &g->nodes[i];
        if (n->obj == NULL || n->mark == epoch)
            continue;
        if (g->manual && !n->bad)
            hl_free_object(g->gc, n->obj);
        n->obj = NULL;
        n->next_free = g->free_head;
        g->free_head = (int32_t)i;
        g->count[SC_UNREACHABLE]++;
    }
    for (uint32_t k = 0; k < g->nweak; k++)
        if (g->weak[k].ref != NULL)
            graph_weak_check(g, &g->weak[k], 1);
}

static void graph_weak_drop(stress_graph *g, graph_weak *w)
{
    hl_release(g->gc, w->ref);
    if (g->manual)
        hl_free_object(g->gc, w->ref);
    w->ref = NULL;
}

/* One op of the graph sequence.  Returns 0 or -1 with err set. */
static int graph_op(stress_graph *g, hl_error *err)
{
    uint64_t r = hl_rng_next(&g->rng), r2 = hl_rng_next(&g->rng);
    uint32_t slot = hl_rng_below((uint32_t)(r >> 32), g->nroots);
    unsigned per = (unsigned)(((r & 0xffff) * 1000u) >> 16); /* per mille */
    int32_t here = g->roots[slot];
    if (here == GRAPH_NONE) {
        uint32_t from = hl_rng_below((uint32_t)r2, g->nroots);
        int32_t other = per < 250 ? graph_walk(g, from, r2 >> 32) : GRAPH_NONE;
        if (other != GRAPH_NONE) {
            g->count[SC_RETAIN]++;
            hl_retain(g->gc, g->nodes[other].obj);
            g->nodes[other].roots++;
            g->roots[slot] = other;
            return 0;
        }
        g->count[SC_NEW]++;
        int32_t idx = graph_new(g, err);
        if (idx == GRAPH_NONE)
            return -1;
        g->roots[slot] = idx;
        return 0;
    }
    if (per < 250) {
        g->count[SC_DROP]++;
        g->roots[slot] = GRAPH_NONE;
        graph_unroot(g, here);
    } else if (per < 600) {
        int32_t src = graph_walk(g, slot, r2);
        graph_node *n = &g->nodes[src];
        if (n->nrefs == 0 || n->bad) {
            g->count[SC_VERIFY]++;
            graph_check(g, src, GRAPH_ALIKE);
            return 0;
        }
        g->count[SC_STORE]++;
        uint32_t field = (uint32_t)(r2 >> 40) % n->nrefs;
        uint64_t r3 = hl_rng_next(&g->rng);
        int32_t dst = (r2 >> 48) % 10 == 0
                          ? GRAPH_NONE
                          : graph_walk(g, hl_rng_below((uint32_t)r3, g->nroots), r3 >> 32);
        hl_store(g->gc, n->obj, field, dst == GRAPH_NONE ? NULL : g->nodes[dst].obj);
        n->refs[field] = dst;
    } else if (per < 700) {
        int32_t parent = graph_walk(g, slot, r2);
        if (g->nodes[parent].nrefs == 0 || g->nodes[parent].bad) {
            g->count[SC_VERIFY]++;
            graph_check(g, parent, GRAPH_ALIKE);
            return 0;
        }
        g->count[SC_CHILD]++;
        int32_t child = graph_new(g, err);
        if (child == GRAPH_NONE)
            return -1;
        graph_node *p = &g->nodes[parent]; /* graph_new may have moved the table */
        uint32_t field = (uint32_t)(r2 >> 40) % p->nrefs;
        hl_store(g->gc, p->obj, field, g->nodes[child].obj);
        p->refs[field] = child;
        hl_release(g->gc, g->nodes[child].obj); /* the parent holds it now */
        g->nodes[child].roots = 0;
    } else if (per < 800) {
        g->count[SC_VERIFY]++;
        graph_check(g, graph_walk(g, slot, r2), GRAPH_ALIKE);
    } else if (per < 880) {
        graph_weak *w = &g->weak[hl_rng_below((uint32_t)r2, g->nweak)];
        if (w->ref != NULL) {
            g->count[SC_WEAK_DROP]++;
            graph_weak_check(g, w, 0);
            graph_weak_drop(g, w);
            return 0;
        }
        g->count[SC_WEAK_NEW]++;
        int32_t target = graph_walk(g, slot, r2 >> 32);
        hl_object *ref = hl_weak_new(g->gc, g->nodes[target].obj, NULL, NULL);
        if (ref == NULL)
            return hl_fail(err, "out of memory: new weak reference failed after %" PRIu64
                           " operations", g->ops_done);
        *w = (graph_weak){ref, g->nodes[target].obj, g->nodes[target].id, target};
    } else if (per < 999) {
        g->count[SC_WEAK_CHECK]++;
        graph_weak *w = &g->weak[hl_rng_below((uint32_t)r2, g->nweak)];
        if (w->ref != NULL)
            graph_weak_check(g, w, 0);
    } else {
        g->count[SC_COLLECT]++;
        unsigned gen = (unsigned)(r2 & 3);
        hl_collect(g->gc, gen == 3 ? -1 : (int)gen);
        graph_sweep(g);
    }
    return 0;
}

int hl_stress_graph_setup(const hl_workload_config *cfg, void **state, hl_error *err)
{
    stress_graph *g = hl_untracked_alloc(sizeof *g);
    if (g == NULL)
        return hl_fail(err, "out of memory for the stress state");
    g->gc = cfg->gc;
    g->manual = hl_gc_is_manual(cfg->gc);
    g->seed = cfg->seed;
    hl_rng_seed(&g->rng, cfg->seed);
    g->nroots = (uint32_t)cfg->params[STRESS_SLOTS];
    g->nweak = g->nroots / 4 + 1;
    g->free_head = GRAPH_NONE;
    g->roots = hl_untracked_alloc(g->nroots * sizeof *g->roots);
    g->weak = hl_untracked_alloc(g->nweak * sizeof *g->weak);
    *state = g;
    if (g->roots == NULL || g->weak == NULL)
        return hl_fail(err, "out of memory for %u root slots", g->nroots);
    for (uint32_t s = 0; s < g->nroots; s++)
        g->roots[s] = GRAPH_NONE;
    for (uint32_t s = 0; s < g->nroots; s++)
        if ((g->roots[s] = graph_new(g, err)) == GRAPH_NONE)
            return -1;
    return 0;
}

int hl_stress_graph_step(stress_graph *g, uint64_t n, hl_error *err)
{
    for (uint64_t i = 0; i < n; i++) {
        if (graph_op(g, err) != 0)
            return -1;
        g->ops_done++;
    }
    return 0;
}

/* Collect everything, check all that is reachable once more, then drop
 * every reference (under manual, free every object still known). */
int hl_stress_graph_finish(stress_graph *g, hl_workload_result *res, hl_error *err)
{
    if (g->roots != NULL && g->weak != NULL) {
        hl_collect(g->gc, -1);
        graph_sweep(g);
        for (uint32_t k = 0; k < g->nweak; k++)
            if (g->weak[k].ref != NULL)
                graph_weak_drop(g, &g->weak[k]);
        for (uint32_t s = 0; s < g->nroots; s++)
            if (g->roots[s] != GRAPH_NONE)
                hl_release(g->gc, g->nodes[g->roots[s]].obj);
        for (uint32_t i = 0; g->manual && i < g->cap; i++)
            if (g->nodes[i].obj != NULL && !g->nodes[i].bad)
                hl_free_object(g->gc, g->nodes[i].obj);
    }
    res->ops = g->ops_done;
    res->checksum = g->checksum;
    int rc = hl_stress_report(res, STRESS_GRAPH, g->count, &g->fault, "object", err);
    hl_untracked_free(g->roots, g->nroots * sizeof *g->roots);
    hl_untracked_free(g->weak, g->nweak * sizeof *g->weak);
    hl_untracked_free(g->nodes, (size_t)g->cap * sizeof *g->nodes);
    hl_untracked_free(g->stack, (size_t)g->cap * sizeof *g->stack);
    hl_untracked_free(g, sizeof *g);
    return rc;
}
