/*
 * fuzz_collectors.c - libFuzzer target: the precise collectors (manual,
 * refcount, cycle, marksweep) over the pool, arena and glibc allocators,
 * against a shadow object graph.  Boehm (`tracing`) is left out: it is
 * conservative and process-global, so no shadow can say what it frees.
 *
 * The shadow keeps, for every object the input created, its fields (as
 * shadow indices), the references the fuzzer holds on it (roots), its data
 * pattern and its fate:
 *   LIVE   certainly still allocated: reachable from the roots; or, under
 *          manual, not freed yet; or, under refcount, held by a cycle of
 *          garbage (or reachable from one), which counting never frees;
 *   DEAD   certainly freed: freed explicitly (manual); garbage on no cycle
 *          and reachable from none, whose count fell to zero (refcount,
 *          cycle); any garbage after a full collection (cycle, marksweep);
 *   MAYBE  garbage that a collection may or may not have freed yet.
 * Garbage never becomes reachable again (the fuzzer only stores and takes
 * references to reachable objects), so fates only move towards DEAD.  Weak
 * references are objects in the same graph (no strong fields), so they can
 * be stored in fields, retained, released and be targets themselves.
 *
 * Checked, with a trap on any discrepancy:
 *   - a new object is zeroed, of the type and shape asked, 8-aligned;
 *   - at every checkpoint (each collect, every CHECK_EVERY operations, the
 *     end) each LIVE object is intact: shape, fields and data pattern;
 *   - a weak reference that is LIVE reads its target while that is LIVE,
 *     NULL once it is DEAD, and one of the two while it is MAYBE; a callback
 *     has run (once, if it has one) exactly when the reference reads NULL,
 *     when the reference is reachable;
 *   - a callback runs at most once, only for a reference not freed, after
 *     its target became unreachable and with the reference already cleared;
 *     under marksweep only for a reachable reference;
 *   - when nothing is MAYBE, the collector's object count (allocated -
 *     freed) equals the LIVE objects, and the tracker's live bytes equal
 *     their sizes plus the collector's per-object prefix (calibrated once
 *     per collector on a fresh instance);
 *   - after everything is dropped and a full collection, nothing is left
 *     but refcount's cyclic garbage; after hl_gc_close the tracker shows
 *     zero live bytes, and a pool has no block in use.
 *
 * Input (fuzz_input.h; zeros past the end): three header bytes, then
 * operations.
 *   byte 0  collector: manual, refcount, cycle, marksweep (mod 4)
 *   byte 1  allocator: pool, arena, glibc (mod 3)
 *   byte 2  bit 0: CPython's default thresholds; else generation 0's
 *           threshold is bits 1-4 (0 disables), generations 1 and 2 get
 *           1 + bits 5-6; bit 7: the long-lived rule
 * Each operation is an opcode byte (mod 10) and its arguments:
 *   0, 1  new          u8 nrefs (mod MAX_REFS + 1), u8 data bytes
 *                      (mod MAX_DATA + 1), u8 type (odd: own traverse)
 *   2, 3  store        u8 source (a reachable object with fields), u8
 *                      field, u8 value (0: NULL, else a reachable object)
 *   4     retain       u8 reachable object
 *   5     release      u8 rooted object (drops one root)
 *   6     free         u8: manual frees an unreachable object not yet
 *                      freed; the others drop every root of a rooted one
 *   7     weak_new     u8 reachable target, u8 (odd: with a callback)
 *   8     weak_get     u8 weak reference (checked as at a checkpoint)
 *   9     collect      u8 generation (mod 4, minus 1: -1 is everything)
 * Work per input is bounded by MAX_OPS and MAX_NODES; operations that
 * cannot apply are skipped.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "allocators/allocator.h"
#include "allocators/pool.h"
#include "collectors/collector.h"
#include "tests/fuzz/fuzz_input.h"

#define MAX_OPS 1024
#define MAX_NODES 192
#define MAX_REFS 6
#define MAX_DATA 80
#define CHECK_EVERY 32

enum fate { FATE_LIVE, FATE_MAYBE, FATE_DEAD };

enum which_collector { GC_MANUAL, GC_REFCOUNT, GC_CYCLE, GC_MARKSWEEP, GC_COUNT };

static const char *const allocator_names[] = {"pool", "arena", "glibc"};

typedef struct gnode {
    hl_object *obj;
    const hl_type *type;
    uint32_t nrefs, data_size;
    int16_t refs[MAX_REFS]; /* shadow indices, -1 for NULL */
    uint32_t roots;         /* references the fuzzer holds */
    uint32_t seed;          /* data pattern */
    uint8_t reach;          /* reachable from the roots (after settle) */
    uint8_t fate;           /* enum fate */
    uint8_t freed;          /* manual: freed by the fuzzer */
    /* Weak references only. */
    uint32_t died_at;       /* the operation that made it DEAD */
    /* Weak references only. */
    uint8_t is_weak, has_cb;
    int16_t target;
    uint32_t callbacks;
} gnode;

typedef struct fuzz_gc {
    int which; /* enum which_collector */
    uint32_t opno; /* operations so far (1-based while one runs) */
    int in_full_collect; /* inside hl_collect of everything (cycle) */
    hl_allocator base, tracked;
    hl_gc gc;
    gnode node[MAX_NODES];
    int n;
    /* Lists rebuilt by settle(), for picking operands by one byte. */
    int16_t reachable[MAX_NODES], nreachable;
    int16_t rooted[MAX_NODES], nrooted;
    int16_t unfreed_garbage[MAX_NODES], nunfreed_garbage; /* manual */
    int16_t weaks[MAX_NODES], nweaks;                     /* LIVE weak references */
    int nmaybe;
    /* Scratch for settle(). */
    int16_t queue[MAX_NODES];
    uint16_t indegree[MAX_NODES];
    uint8_t candidate[MAX_NODES];
} fuzz_gc;

/* What one object costs the tracked heap beyond hl_object_size(), and what
 * a weak reference costs, per collector (measured once). */
typedef struct calibration {
    int done;
    uint64_t prefix, weak_bytes;
} calibration;

static fuzz_gc state;
static fuzz_gc *current; /* for the weak callbacks */
static calibration calib[GC_COUNT];

static const hl_type plain_type = {.name = "fuzz-node", .traverse = NULL};

static void own_traverse(hl_object *o, hl_visit_fn visit, void *arg)
{
    for (uint32_t i = 0; i < o->nrefs; i++)
        if (o->refs[i] != NULL)
            visit(&o->refs[i], arg);
}

static const hl_type traversed_type = {.name = "fuzz-traversed", .traverse = own_traverse};

static const hl_collector_ops *collector_of(int which)
{
    switch (which) {
    case GC_MANUAL:
        return hl_manual_collector();
    case GC_REFCOUNT:
        return hl_refcount_collector();
    case GC_CYCLE:
        return hl_cycle_collector();
    default:
        return hl_marksweep_collector();
    }
}

/* -------------------------------------------------------------- patterns -- */

static unsigned char pattern_byte(uint32_t seed, uint32_t j)
{
    uint32_t h = seed * 0x9E3779B1u;
    return (unsigned char)((h >> (8 * (j & 3))) ^ (h >> 27) ^ j);
}

static void pattern_fill(gnode *g)
{
    unsigned char *d = hl_object_data(g->obj);
    for (uint32_t j = 0; j < g->data_size; j++)
        d[j] = pattern_byte(g->seed, j);
}

/* Shape, fields and data of a LIVE object (a weak reference's data is the
 * collector's, so only its shape is checked). */
static void check_intact(const fuzz_gc *f, const gnode *g)
{
    const hl_object *o = g->obj;
    FUZZ_CHECK(o->type == g->type);
    FUZZ_CHECK(o->nrefs == g->nrefs);
    FUZZ_CHECK(o->data_size == g->data_size);
    if (g->is_weak)
        return;
    for (uint32_t k = 0; k < g->nrefs; k++)
        FUZZ_CHECK(o->refs[k] == (g->refs[k] < 0 ? NULL : f->node[g->refs[k]].obj));
    const unsigned char *d = hl_object_data((hl_object *)o);
    for (uint32_t j = 0; j < g->data_size; j++)
        FUZZ_CHECK(d[j] == pattern_byte(g->seed, j));
}

/* ---------------------------------------------------------------- fates -- */

/* Refcount and cycle: which garbage counting cannot free.  Kahn's
 * algorithm over the garbage not yet DEAD: repeatedly remove an object no
 * remaining one refers to (its count would fall to zero); what is left lies
 * on a cycle or is reachable from one.  Sets candidate[i] for those.
 * Cost: O(objects + fields). */
static void mark_cycle_held(fuzz_gc *f)
{
    int head = 0, tail = 0;
    for (int i = 0; i < f->n; i++) {
        f->candidate[i] = !f->node[i].reach && f->node[i].fate != FATE_DEAD;
        f->indegree[i] = 0;
    }
    for (int i = 0; i < f->n; i++) {
        if (!f->candidate[i])
            continue;
        for (uint32_t k = 0; k < f->node[i].nrefs; k++)
            if (f->node[i].refs[k] >= 0 && f->candidate[f->node[i].refs[k]])
                f->indegree[f->node[i].refs[k]]++;
    }
    for (int i = 0; i < f->n; i++)
        if (f->candidate[i] && f->indegree[i] == 0)
            f->queue[tail++] = (int16_t)i;
    while (head < tail) {
        gnode *g = &f->node[f->queue[head++]];
        f->candidate[f->queue[head - 1]] = 0;
        for (uint32_t k = 0; k < g->nrefs; k++) {
            int t = g->refs[k];
            if (t >= 0 && f->candidate[t] && --f->indegree[t] == 0)
                f->queue[tail++] = (int16_t)t;
        }
    }
}

/* Recompute reachability (breadth-first from the roots), every fate, and
 * the operand lists.  `full`: a full collection just ran, so every garbage
 * object of a tracing or cycle collector is DEAD.  Call it after changing
 * the shadow and before calling the collector, so that callbacks the call
 * runs see the graph as it is after the operation. */
static void settle(fuzz_gc *f, int full)
{
    int head = 0, tail = 0;
    for (int i = 0; i < f->n; i++) {
        f->node[i].reach = f->node[i].roots > 0 && f->node[i].fate != FATE_DEAD;
        if (f->node[i].reach)
            f->queue[tail++] = (int16_t)i;
    }
    while (head < tail) {
        const gnode *g = &f->node[f->queue[head++]];
        for (uint32_t k = 0; k < g->nrefs; k++) {
            int t = g->refs[k];
            if (t >= 0 && !f->node[t].reach) {
                FUZZ_CHECK(f->node[t].fate != FATE_DEAD); /* the shadow itself */
                f->node[t].reach = 1;
                f->queue[tail++] = (int16_t)t;
            }
        }
    }
    if (f->which == GC_REFCOUNT || f->which == GC_CYCLE)
        mark_cycle_held(f);
    f->nreachable = f->nrooted = f->nunfreed_garbage = f->nweaks = 0;
    f->nmaybe = 0;
    for (int i = 0; i < f->n; i++) {
        gnode *g = &f->node[i];
        if (g->reach) {
            g->fate = FATE_LIVE;
        } else if (g->fate != FATE_DEAD) {
            switch (f->which) {
            case GC_MANUAL:
                g->fate = g->freed ? FATE_DEAD : FATE_LIVE;
                break;
            case GC_REFCOUNT:
                g->fate = f->candidate[i] ? FATE_LIVE : FATE_DEAD;
                break;
            case GC_CYCLE:
                g->fate = f->candidate[i] && !full ? FATE_MAYBE : FATE_DEAD;
                break;
            default:
                g->fate = full ? FATE_DEAD : FATE_MAYBE;
                break;
            }
            if (g->fate == FATE_DEAD)
                g->died_at = f->opno;
        }
        if (g->reach)
            f->reachable[f->nreachable++] = (int16_t)i;
        if (g->reach && g->roots > 0)
            f->rooted[f->nrooted++] = (int16_t)i;
        if (!g->reach && g->fate == FATE_LIVE && f->which == GC_MANUAL)
            f->unfreed_garbage[f->nunfreed_garbage++] = (int16_t)i;
        if (g->is_weak && g->fate == FATE_LIVE)
            f->weaks[f->nweaks++] = (int16_t)i;
        f->nmaybe += g->fate == FATE_MAYBE;
    }
}

/* ------------------------------------------------------- weak references -- */

static void weak_callback(hl_object *w, void *arg)
{
    gnode *g = arg;
    fuzz_gc *f = current;
    FUZZ_CHECK(f != NULL && g >= f->node && g < f->node + f->n);
    FUZZ_CHECK(g->is_weak && g->obj == w && g->has_cb);
    /* A freed reference gets no callback; one that dies in the same
     * cascade as its target (both held by one object just released, say)
     * may get it first. */
    FUZZ_CHECK(g->fate != FATE_DEAD || g->died_at == f->opno);
    FUZZ_CHECK(g->callbacks == 0);
    g->callbacks++;
    FUZZ_CHECK(!f->node[g->target].reach); /* its target died */
    FUZZ_CHECK(hl_weak_get(&f->gc, w) == NULL); /* cleared before any callback */
    /* marksweep, and cycle's full collections: a garbage reference dies
     * in the same collection as its target, and gets none. */
    if (f->which == GC_MARKSWEEP || f->in_full_collect)
        FUZZ_CHECK(g->reach);
}

/* A LIVE weak reference against its target's fate. */
static void check_weak(const fuzz_gc *f, const gnode *g)
{
    const gnode *t = &f->node[g->target];
    hl_object *got = hl_weak_get(&f->gc, g->obj);
    FUZZ_CHECK(g->callbacks <= g->has_cb);
    if (t->fate == FATE_LIVE)
        FUZZ_CHECK(got == t->obj);
    else if (t->fate == FATE_DEAD)
        FUZZ_CHECK(got == NULL);
    else
        FUZZ_CHECK(got == NULL || got == t->obj);
    if (got != NULL)
        FUZZ_CHECK(g->callbacks == 0);
    else if (g->reach)
        FUZZ_CHECK(g->callbacks == g->has_cb);
}

/* ----------------------------------------------------------- checkpoints -- */

static uint64_t node_bytes(const gnode *g)
{
    const calibration *c = &calib[current->which];
    return g->is_weak ? c->weak_bytes : hl_object_size(g->nrefs, g->data_size) + c->prefix;
}

static void checkpoint(fuzz_gc *f)
{
    uint64_t live = 0, bytes = 0;
    for (int i = 0; i < f->n; i++) {
        const gnode *g = &f->node[i];
        if (g->fate != FATE_LIVE)
            continue;
        check_intact(f, g);
        if (g->is_weak)
            check_weak(f, g);
        live++;
        bytes += node_bytes(g);
    }
    if (f->nmaybe > 0)
        return;
    hl_gc_stats s;
    memset(&s, 0, sizeof s);
    f->gc.ops->stats(f->gc.ctx, &s);
    FUZZ_CHECK(s.objects_allocated - s.objects_freed == live);
    FUZZ_CHECK(hl_tracker_read(&f->tracked).live_bytes == bytes);
}

/* ------------------------------------------------------------ instances -- */

static int open_env(fuzz_gc *f, int which, const char *alloc_name, const hl_gc_config *cfg)
{
    f->which = which;
    FUZZ_CHECK(hl_allocator_open(&f->base, hl_allocator_find(alloc_name)) == 0);
    FUZZ_CHECK(hl_tracker_wrap(&f->tracked, &f->base) == 0);
    FUZZ_CHECK(hl_gc_open(&f->gc, collector_of(which), &f->tracked, cfg) == 0);
    return 0;
}

/* Close the collector (its fini frees whatever is left), then nothing of
 * the tracked allocator may be live. */
static void close_env(fuzz_gc *f, const char *alloc_name)
{
    hl_gc_close(&f->gc);
    FUZZ_CHECK(hl_tracker_read(&f->tracked).live_bytes == 0);
    FUZZ_CHECK(hl_tracker_read(&f->tracked).live_blocks == 0);
    if (strcmp(alloc_name, "pool") == 0) {
        hl_pool_snapshot s;
        FUZZ_CHECK(hl_pool_inspect(f->base.ctx, &s) == 0);
        FUZZ_CHECK(s.pools_used == 0 && s.fallback_live_blocks == 0);
        FUZZ_CHECK(s.arenas_mapped <= 1);
    }
    hl_allocator_close(&f->tracked);
    hl_allocator_close(&f->base);
}

static void drop_reference(fuzz_gc *f, hl_object *o)
{
    if (f->which == GC_MANUAL)
        hl_free_object(&f->gc, o);
    else
        hl_release(&f->gc, o);
}

/* The per-object prefix and a weak reference's cost, from a fresh instance
 * over the pool. */
static void calibrate(int which)
{
    static fuzz_gc scratch;
    calibration *c = &calib[which];
    if (c->done)
        return;
    fuzz_gc *f = &scratch;
    memset(f, 0, sizeof *f);
    open_env(f, which, "pool", NULL);
    uint64_t b0 = hl_tracker_read(&f->tracked).live_bytes;
    hl_object *a = hl_new(&f->gc, &plain_type, 2, 24);
    uint64_t b1 = hl_tracker_read(&f->tracked).live_bytes;
    hl_object *b = hl_new(&f->gc, &plain_type, 5, 3);
    uint64_t b2 = hl_tracker_read(&f->tracked).live_bytes;
    hl_object *w = hl_weak_new(&f->gc, a, NULL, NULL);
    uint64_t b3 = hl_tracker_read(&f->tracked).live_bytes;
    FUZZ_CHECK(a != NULL && b != NULL && w != NULL);
    FUZZ_CHECK(b1 - b0 >= hl_object_size(2, 24));
    c->prefix = b1 - b0 - hl_object_size(2, 24);
    FUZZ_CHECK(b2 - b1 == hl_object_size(5, 3) + c->prefix);
    c->weak_bytes = b3 - b2;
    drop_reference(f, w);
    drop_reference(f, b);
    drop_reference(f, a);
    hl_collect(&f->gc, -1);
    close_env(f, "pool");
    c->done = 1;
}

/* ------------------------------------------------------------ operations -- */

static int pick(fuzz_input *in, const int16_t *list, int n)
{
    uint8_t b = fuzz_u8(in);
    return n > 0 ? list[b % n] : -1;
}

/* Register a fresh object (from new or weak_new) with one root. */
static gnode *add_node(fuzz_gc *f, hl_object *o, const hl_type *t, uint32_t nrefs,
                       uint32_t data_size)
{
    FUZZ_CHECK(o != NULL);
    FUZZ_CHECK((uintptr_t)o % 8 == 0);
    FUZZ_CHECK(o->type == t && o->nrefs == nrefs && o->data_size == data_size);
    gnode *g = &f->node[f->n];
    memset(g, 0, sizeof *g);
    g->obj = o;
    g->type = t;
    g->nrefs = nrefs;
    g->data_size = data_size;
    g->roots = 1;
    g->seed = (uint32_t)f->n * 2654435761u + 1;
    g->fate = FATE_LIVE;
    g->target = -1;
    for (int k = 0; k < MAX_REFS; k++)
        g->refs[k] = -1;
    f->n++;
    settle(f, 0);
    return g;
}

static void op_new(fuzz_gc *f, fuzz_input *in)
{
    uint32_t nrefs = fuzz_u8(in) % (MAX_REFS + 1);
    uint32_t data_size = fuzz_u8(in) % (MAX_DATA + 1);
    const hl_type *t = fuzz_u8(in) & 1 ? &traversed_type : &plain_type;
    if (f->n == MAX_NODES)
        return;
    hl_object *o = hl_new(&f->gc, t, nrefs, data_size);
    FUZZ_CHECK(o != NULL);
    for (uint32_t k = 0; k < nrefs; k++)
        FUZZ_CHECK(o->refs[k] == NULL);
    const unsigned char *d = hl_object_data(o);
    for (uint32_t j = 0; j < data_size; j++)
        FUZZ_CHECK(d[j] == 0);
    gnode *g = add_node(f, o, t, nrefs, data_size);
    pattern_fill(g);
}

static void op_store(fuzz_gc *f, fuzz_input *in)
{
    int16_t sources[MAX_NODES];
    int nsources = 0;
    for (int k = 0; k < f->nreachable; k++)
        if (f->node[f->reachable[k]].nrefs > 0)
            sources[nsources++] = f->reachable[k];
    int src = pick(in, sources, nsources);
    uint8_t field = fuzz_u8(in);
    uint8_t which = fuzz_u8(in);
    if (src < 0)
        return;
    gnode *g = &f->node[src];
    field %= g->nrefs;
    int dst = which == 0 ? -1 : f->reachable[(which - 1) % f->nreachable];
    g->refs[field] = (int16_t)dst;
    settle(f, 0);
    hl_store(&f->gc, g->obj, field, dst < 0 ? NULL : f->node[dst].obj);
}

static void op_retain(fuzz_gc *f, fuzz_input *in)
{
    int i = pick(in, f->reachable, f->nreachable);
    if (i < 0)
        return;
    f->node[i].roots++;
    settle(f, 0);
    hl_retain(&f->gc, f->node[i].obj);
}

/* Drop `count` roots of node i (all of them when count is 0). */
static void drop_roots(fuzz_gc *f, int i, uint32_t count)
{
    gnode *g = &f->node[i];
    if (count == 0 || count > g->roots)
        count = g->roots;
    g->roots -= count;
    settle(f, 0);
    if (f->which != GC_MANUAL)
        for (uint32_t k = 0; k < count; k++)
            hl_release(&f->gc, g->obj);
}

static void op_release(fuzz_gc *f, fuzz_input *in)
{
    int i = pick(in, f->rooted, f->nrooted);
    if (i >= 0)
        drop_roots(f, i, 1);
}

static void op_free(fuzz_gc *f, fuzz_input *in)
{
    if (f->which != GC_MANUAL) {
        int i = pick(in, f->rooted, f->nrooted);
        if (i >= 0)
            drop_roots(f, i, 0);
        return;
    }
    int i = pick(in, f->unfreed_garbage, f->nunfreed_garbage);
    if (i < 0)
        return;
    f->node[i].freed = 1;
    settle(f, 0);
    hl_free_object(&f->gc, f->node[i].obj);
}

static void op_weak_new(fuzz_gc *f, fuzz_input *in)
{
    int t = pick(in, f->reachable, f->nreachable);
    int has_cb = fuzz_u8(in) & 1;
    if (t < 0 || f->n == MAX_NODES)
        return;
    /* The callback's argument is the node the reference will occupy. */
    gnode *slot = &f->node[f->n];
    hl_object *w = hl_weak_new(&f->gc, f->node[t].obj, has_cb ? weak_callback : NULL, slot);
    FUZZ_CHECK(w != NULL);
    FUZZ_CHECK(hl_weak_get(&f->gc, w) == f->node[t].obj);
    gnode *g = add_node(f, w, w->type, w->nrefs, w->data_size);
    FUZZ_CHECK(g == slot);
    FUZZ_CHECK(w->nrefs == 0);
    g->is_weak = 1;
    g->has_cb = (uint8_t)has_cb;
    g->target = (int16_t)t;
}

static void op_weak_get(fuzz_gc *f, fuzz_input *in)
{
    int i = pick(in, f->weaks, f->nweaks);
    if (i >= 0)
        check_weak(f, &f->node[i]);
}

static void op_collect(fuzz_gc *f, fuzz_input *in)
{
    int gen = (int)(fuzz_u8(in) % 4) - 1;
    int full = f->which == GC_MARKSWEEP || (f->which == GC_CYCLE && (gen < 0 || gen == 2));
    f->in_full_collect = full;
    hl_collect(&f->gc, gen);
    f->in_full_collect = 0;
    settle(f, full);
    checkpoint(f);
}

/* ---------------------------------------------------------------- a run -- */

static hl_gc_config read_config(fuzz_input *in)
{
    uint8_t b = fuzz_u8(in);
    hl_gc_config cfg = hl_gc_default_config();
    if (b & 1)
        return cfg;
    cfg.threshold[0] = (b >> 1) & 15;
    cfg.threshold[1] = cfg.threshold[2] = 1 + ((b >> 5) & 3);
    cfg.long_lived_rule = b >> 7;
    return cfg;
}

/* Drop every reference, collect everything, check what is left (refcount's
 * cyclic garbage only), close. */
static void finish(fuzz_gc *f, const char *alloc_name)
{
    f->opno++; /* one operation: everything dies in it */
    settle(f, 0);
    checkpoint(f);
    if (f->which == GC_MANUAL) {
        /* Everything becomes garbage first, so each free is of garbage. */
        for (int i = 0; i < f->n; i++)
            f->node[i].roots = 0;
        settle(f, 0);
        for (int i = 0; i < f->n; i++) {
            gnode *g = &f->node[i];
            if (g->fate != FATE_LIVE)
                continue;
            g->freed = 1;
            settle(f, 0);
            hl_free_object(&f->gc, g->obj);
        }
    } else {
        for (int i = 0; i < f->n; i++)
            if (f->node[i].roots > 0 && f->node[i].fate == FATE_LIVE)
                drop_roots(f, i, 0);
    }
    f->in_full_collect = f->which == GC_CYCLE;
    hl_collect(&f->gc, -1);
    f->in_full_collect = 0;
    settle(f, 1);
    FUZZ_CHECK(f->nreachable == 0 && f->nmaybe == 0);
    checkpoint(f);
    if (f->which != GC_REFCOUNT)
        FUZZ_CHECK(hl_tracker_read(&f->tracked).live_bytes == 0);
    close_env(f, alloc_name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = fuzz_input_of(data, size);
    int which = fuzz_u8(&in) % GC_COUNT;
    const char *alloc_name = allocator_names[fuzz_u8(&in) % 3];
    hl_gc_config cfg = read_config(&in);
    calibrate(which);

    fuzz_gc *f = &state;
    memset(f, 0, sizeof *f);
    current = f;
    open_env(f, which, alloc_name, &cfg);
    settle(f, 0);
    for (int op = 0; op < MAX_OPS && !fuzz_input_done(&in); op++) {
        f->opno++;
        switch (fuzz_u8(&in) % 10) {
        case 0:
        case 1:
            op_new(f, &in);
            break;
        case 2:
        case 3:
            op_store(f, &in);
            break;
        case 4:
            op_retain(f, &in);
            break;
        case 5:
            op_release(f, &in);
            break;
        case 6:
            op_free(f, &in);
            break;
        case 7:
            op_weak_new(f, &in);
            break;
        case 8:
            op_weak_get(f, &in);
            break;
        case 9:
            op_collect(f, &in);
            break;
        }
        if (op % CHECK_EVERY == CHECK_EVERY - 1)
            checkpoint(f);
    }
    finish(f, alloc_name);
    current = NULL;
    return 0;
}
