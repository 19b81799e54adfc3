/*
 * genlist.c - `--workload=genlist`: a list materialises, a generator streams.
 *
 * The lesson: `sum(f(x) for x in data)` holds one item at a time, while
 * `sum([f(x) for x in data])` first builds all N items and a list to hold
 * them, so its peak memory is O(N) where the generator's is O(1).  The work
 * and the answer are the same; compare live_peak (and wl_peak_items_alive)
 * between the two variants, and run with a larger `items` to see which one
 * grows.
 *
 * One op = one item produced and consumed.  An item is a small tuple: two
 * reference fields (NULL: slots holding atoms) and 16, 24 or 32 bytes of
 * data: its value, drawn from the seeded generator, its serial number, and
 * (in the larger sizes) further words derived from the value.  Its type is
 * of kind HL_KIND_TUPLE, so under `cycle` the first collection that sees an
 * item untracks it, as CPython's untrack_tuples does for a tuple of atoms:
 * the list's items then cost later collections nothing, and only the list
 * objects stay tracked.  (The items are complete when created: nothing is
 * ever stored into them, the contract cycle.c states for tuples.)  Consuming an item checks every word
 * and folds the value into the checksum, in production order, so both
 * variants give the same checksum under every collector and allocator.
 *
 * Variants:
 *   list       produce all N items, appending each to a list object, then
 *              consume them in order and drop the list.  The list is an
 *              object whose reference fields are its item slots; it
 *              over-allocates as CPython's list does (since 3.9):
 *                  allocated = (n + (n >> 3) + 6) & ~3    for n = size + 1
 *              and growing it means a new, larger list object, the item
 *              references stored into it and the old object dropped.
 *   generator  a generator object (its suspended frame: one small object
 *              holding the next index) produces an item, the consumer checks
 *              it, then drops it, N times.
 *
 * Under manual the workload frees each consumed item, each outgrown list,
 * the list at the end, and the generator.
 *
 * Figures (wl_*): items, peak_items_alive, peak_live_bytes, and for list:
 * list_resizes, list_slots (allocated at the peak).  peak_live_bytes is
 * measured, not computed from item sizes: the tracker's live_peak read at
 * the end of the run (cfg->tracker), the most requested bytes live at once
 * since the tracker opened -- in the harness's memory pass, this run's
 * own, equal to the row's live_peak.  It is left out of untracked runs.
 *
 * Parameters: items (N, per run; ops = N); seed from --seed.  Source:
 * CPython's Objects/listobject.c (list_resize) and PEP 289 (generator
 * expressions).
 */
#include "workloads/rng.h"
#include "workloads/workload.h"

#include <inttypes.h>
#include <stdlib.h>

enum { GENLIST_ITEMS };

static const hl_param_spec genlist_params[] = {
    [GENLIST_ITEMS] = {"items", "items produced and consumed per run (N)", 1000000, 100000, 1,
                       INT64_C(1) << 31},
};

enum { GENLIST_LIST, GENLIST_GENERATOR };

static const hl_variant_spec genlist_variants[] = {
    [GENLIST_LIST] = {"list", "materialise all N items in a list, then consume them: O(N)"},
    [GENLIST_GENERATOR] = {"generator", "produce, consume and drop one item at a time: O(1)"},
};

#define GENLIST_ITEM_REFS 2
#define GENLIST_SERIAL_SALT 0xc3a5c85c97cb3127ull

static const hl_type genlist_item_type = {.name = "genlist.item", .kind = HL_KIND_TUPLE};
static const hl_type genlist_list_type = {.name = "genlist.list"};
static const hl_type genlist_generator_type = {.name = "genlist.generator"};

typedef struct genlist {
    const hl_gc *gc;
    int manual;
    unsigned variant;
    uint64_t n;        /* items per run */
    hl_rng rng;
    hl_object *list;   /* list: the list; its nrefs are the allocated slots */
    uint64_t size;     /* list: items in it */
    hl_object *gen;    /* generator: the generator object */
    uint64_t produced, consumed;
    uint64_t alive, peak_alive;
    uint64_t resizes, peak_slots;
    uint64_t checksum;
    const hl_allocator *tracker; /* the live-bytes oracle, or NULL */
} genlist;

static uint64_t genlist_ops(const hl_workload_config *cfg)
{
    return (uint64_t)cfg->params[GENLIST_ITEMS];
}

static inline uint64_t genlist_word(uint64_t value, uint32_t i)
{
    return value ^ (i * 0x9e3779b97f4a7c15ull);
}

/* Produce item number `serial`: one draw gives its value and its size. */
static hl_object *genlist_produce(genlist *g, uint64_t serial, hl_error *err)
{
    uint64_t value = hl_rng_next(&g->rng);
    uint32_t size = 16 + 8 * (uint32_t)(value % 3);
    hl_object *it = hl_new(g->gc, &genlist_item_type, GENLIST_ITEM_REFS, size);
    if (it == NULL) {
        hl_fail(err, "out of memory: item %" PRIu64 " (%" PRIu64 " alive)", serial, g->alive);
        return NULL;
    }
    uint64_t *w = hl_object_data(it);
    w[0] = value;
    w[1] = serial ^ GENLIST_SERIAL_SALT;
    for (uint32_t i = 2; i < size / 8; i++)
        w[i] = genlist_word(value, i);
    if (++g->alive > g->peak_alive)
        g->peak_alive = g->alive;
    g->produced++;
    return it;
}

/* Consume the next item in order: check it and fold its value. */
static int genlist_consume(genlist *g, hl_object *it, hl_error *err)
{
    uint64_t serial = g->consumed;
    const uint64_t *w = hl_object_data(it);
    if (it->nrefs != GENLIST_ITEM_REFS || it->data_size < 16 || it->data_size > 32 ||
        w[1] != (serial ^ GENLIST_SERIAL_SALT) || it->data_size != 16 + 8 * (w[0] % 3))
        return hl_fail(err, "item %" PRIu64 " (%p) is malformed: serial word %016" PRIx64
                       ", %u bytes", serial, (void *)it, w[1], it->data_size);
    for (uint32_t i = 2; i < it->data_size / 8; i++)
        if (w[i] != genlist_word(w[0], i))
            return hl_fail(err, "item %" PRIu64 " corrupted at word %u", serial, i);
    g->checksum = (g->checksum ^ w[0]) * 0x100000001b3ull;
    g->consumed++;
    return 0;
}

/* Drop one item the consumer is done with. */
static void genlist_drop_item(genlist *g, hl_object *it)
{
    hl_release(g->gc, it);
    if (g->manual)
        hl_free_object(g->gc, it);
    g->alive--;
}

static void genlist_drop_object(genlist *g, hl_object *o)
{
    hl_release(g->gc, o);
    if (g->manual)
        hl_free_object(g->gc, o);
}

/* ---------------------------------------------------------------- list -- */

/* CPython's list_resize growth for a list about to hold `newsize` items. */
static inline uint64_t genlist_allocated(uint64_t newsize)
{
    return (newsize + (newsize >> 3) + 6) & ~(uint64_t)3;
}

/* Append `it` (the caller's reference passes to the list), growing it into
 * a new list object when full. */
static int genlist_append(genlist *g, hl_object *it, hl_error *err)
{
    if (g->size == g->list->nrefs) {
        uint64_t slots = genlist_allocated(g->size + 1);
        if (slots > UINT32_MAX)
            return hl_fail(err, "a list of %" PRIu64 " items is too large", g->size + 1);
        hl_object *bigger = hl_new(g->gc, &genlist_list_type, (uint32_t)slots, 0);
        if (bigger == NULL)
            return hl_fail(err, "out of memory growing the list to %" PRIu64 " slots", slots);
        for (uint64_t i = 0; i < g->size; i++)
            hl_store(g->gc, bigger, (uint32_t)i, g->list->refs[i]);
        genlist_drop_object(g, g->list);
        g->list = bigger;
        g->resizes++;
        if (slots > g->peak_slots)
            g->peak_slots = slots;
    }
    hl_store(g->gc, g->list, (uint32_t)g->size++, it);
    hl_release(g->gc, it);
    return 0;
}

/* Consume every item of the list in order (when `consume`), then drop the
 * list and, under manual, free the items. */
static int genlist_finish_list(genlist *g, int consume, hl_error *err)
{
    int rc = 0;
    for (uint64_t i = 0; consume && rc == 0 && i < g->size; i++)
        rc = genlist_consume(g, g->list->refs[i], err);
    if (g->manual)
        for (uint64_t i = 0; i < g->size; i++)
            hl_free_object(g->gc, g->list->refs[i]);
    genlist_drop_object(g, g->list);
    g->list = NULL;
    g->alive -= g->size;
    g->size = 0;
    return rc;
}

/* ------------------------------------------------------------ workload -- */

static int genlist_setup(const hl_workload_config *cfg, void **state, hl_error *err)
{
    genlist *g = calloc(1, sizeof *g);
    if (g == NULL)
        return hl_fail(err, "out of memory for the genlist state");
    g->gc = cfg->gc;
    g->manual = hl_gc_is_manual(cfg->gc);
    g->variant = (unsigned)cfg->variant;
    g->n = (uint64_t)cfg->params[GENLIST_ITEMS];
    g->tracker = cfg->tracker;
    hl_rng_seed(&g->rng, cfg->seed);
    *state = g;
    if (g->variant == GENLIST_LIST)
        g->list = hl_new(g->gc, &genlist_list_type, 0, 0); /* [] */
    else
        g->gen = hl_new(g->gc, &genlist_generator_type, 0, sizeof(uint64_t));
    if (g->list == NULL && g->gen == NULL)
        return hl_fail(err, "out of memory for the %s object",
                       g->variant == GENLIST_LIST ? "list" : "generator");
    return 0;
}

static int genlist_step(void *state, uint64_t n, hl_error *err)
{
    genlist *g = state;
    for (uint64_t i = 0; i < n; i++) {
        hl_object *it = genlist_produce(g, g->produced, err);
        if (it == NULL)
            return -1;
        if (g->variant == GENLIST_GENERATOR) {
            *(uint64_t *)hl_object_data(g->gen) = g->produced; /* the frame's next index */
            int rc = genlist_consume(g, it, err);
            genlist_drop_item(g, it);
            if (rc != 0)
                return -1;
            continue;
        }
        if (g->list == NULL) /* a further run of N items, should the harness ask */
            g->list = hl_new(g->gc, &genlist_list_type, 0, 0);
        if (g->list == NULL || genlist_append(g, it, err) != 0) {
            genlist_drop_item(g, it);
            return g->list == NULL ? hl_fail(err, "out of memory for a list") : -1;
        }
        if (g->size == g->n && genlist_finish_list(g, 1, err) != 0)
            return -1;
    }
    return 0;
}

static int genlist_finish(void *state, hl_workload_result *res, hl_error *err)
{
    genlist *g = state;
    if (g->list != NULL)
        genlist_finish_list(g, 0, err); /* a run cut short: nothing more to check */
    if (g->gen != NULL)
        genlist_drop_object(g, g->gen);
    res->ops = g->produced;
    res->checksum = g->checksum;
    hl_stats_add(&res->figures, "items", "count", (double)g->produced);
    hl_stats_add(&res->figures, "peak_items_alive", "count", (double)g->peak_alive);
    if (g->tracker != NULL)
        hl_stats_add(&res->figures, "peak_live_bytes", "bytes",
                     (double)hl_tracker_read(g->tracker).live_peak);
    if (g->variant == GENLIST_LIST) {
        hl_stats_add(&res->figures, "list_resizes", "count", (double)g->resizes);
        hl_stats_add(&res->figures, "list_slots", "count", (double)g->peak_slots);
    }
    free(g);
    return 0;
}

static const hl_workload_ops genlist_ops_table = {
    .name = "genlist",
    .description = "a list materialises N items (O(N) peak), a generator streams them (O(1))",
    .default_collector = "refcount",
    .params = genlist_params,
    .nparams = sizeof genlist_params / sizeof genlist_params[0],
    .variants = genlist_variants,
    .nvariants = sizeof genlist_variants / sizeof genlist_variants[0],
    .ops = genlist_ops,
    .setup = genlist_setup,
    .step = genlist_step,
    .finish = genlist_finish,
};

const hl_workload_ops *hl_genlist_workload(void)
{
    return &genlist_ops_table;
}
