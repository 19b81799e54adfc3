/*
 * cache.c - `--workload=cache`: a dict used as a cache, and the three ways
 * to keep it.
 *
 * The lesson: `cache[key] = value` in a module-level dict is the most common
 * Python memory leak.  Every distinct key ever asked for stays, so live
 * memory grows with the requests, not with what is in use.  The cures are to
 * bound it (functools.lru_cache(maxsize=...)) or to make it weak
 * (weakref.WeakValueDictionary: an entry vanishes once nothing else holds its
 * value).  Run each variant and compare live bytes: unbounded grows, lru
 * stays flat, weak follows what the program really holds.
 *
 * One op = one request for a key.  Keys are drawn from a Zipf-like
 * distribution (exponent `skew`/100) over `keys` keys, far more than any
 * bounded cache holds: a few keys are hot, most are rare.  The draw inverts
 * the Zipf CDF through a precomputed table of 65,536 quantiles: a quantile
 * that falls inside one hot key's probability mass yields that key exactly,
 * one that spans many cold keys yields one of them uniformly.
 *
 * A miss creates the value, an object of 64-256 bytes whose size and
 * contents follow from the key (word 0 the key, word 1 bookkeeping, the rest
 * a pattern from the key and the seed), and inserts it; a hit checks the
 * whole pattern.  Either way one pattern word is folded into the checksum,
 * so the checksum is the same under every collector, allocator and variant.
 *
 * The table is a compact dict as CPython's (3.6+) is, made of collector
 * objects so that it counts in live bytes:
 *
 *     index    object, data = int32 heads[nbuckets]  (-1: empty bucket)
 *                              |
 *     entries  object, refs[i] = value (or weak reference to it)
 *                      data[i] = { key, chain next, lru prev, lru next }
 *
 * Chains of colliding keys and the LRU list are slot numbers in the data,
 * not references, so the table contains no cycles.  Growing the table means
 * a new entries object twice the size, the live slots copied over and the
 * old one dropped, as dict resizing does.
 *
 * Variants:
 *   unbounded  never evicts; the table grows with the distinct keys seen.
 *   lru        `capacity` entries; a hit moves its entry to the front, a
 *              miss at capacity evicts the least recently used.
 *   weak       the table holds weak references (WeakValueDictionary); the
 *              program keeps the last `window` values it used strongly (a
 *              ring).  As WeakValueDictionary's KeyedRef, each weak
 *              reference carries its key and a callback: when the value
 *              dies, the callback removes the entry from the table (only if
 *              the entry still holds that weak reference), so the table
 *              never holds a dead entry and a lookup never meets one (it
 *              would be an error: the collector lost a callback).  The table
 *              grows when full, as a dict does; it never sweeps.
 *
 * The weak callback's way back to its table.  WeakValueDictionary's
 * callback reaches its dict through a weak reference and does nothing once
 * the dict is gone.  Here the callback's argument packs the key with the
 * number of the cache instance, found in a small per-thread table of the
 * open caches (cache_live): a callback that comes after its cache finished
 * (a conservative collector may keep a weak reference past the table's
 * end, and its final collection comes after finish) finds no instance and
 * does nothing, and no memory per entry is needed.
 *
 * Under manual the workload frees evicted values, removed entries, values
 * that leave the ring for the last time (a pin count in word 1) and the old
 * table objects.  Under tracing and marksweep a weak entry vanishes only
 * when a collection has run (the callbacks run in it), so their hit counts
 * differ; the checksum does not.
 *
 * Figures (wl_*): hits, misses, evictions, vanished (weak entries removed
 * by their callback), entries (at the end), table_slots (at
 * the end), resizes.
 *
 * Parameters: ops (requests), keys (key space), skew (Zipf exponent x 100),
 * capacity (lru), window (weak); seed from --seed.  Sources: the Python
 * documentation of functools.lru_cache and weakref.WeakValueDictionary;
 * CPython's Objects/dictobject.c for the compact layout.
 */
#include "workloads/rng.h"
#include "workloads/workload.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { CACHE_OPS, CACHE_KEYS, CACHE_SKEW, CACHE_CAPACITY, CACHE_WINDOW };

/* Keys are below 2^CACHE_KEY_BITS: a weak callback's argument packs one
 * with the cache's instance number. */
#define CACHE_KEY_BITS 26

static const hl_param_spec cache_params[] = {
    [CACHE_OPS] = {"ops", "requests per run", 1000000, 100000, 1, INT64_C(1000000000000)},
    [CACHE_KEYS] = {"keys", "distinct keys that can be requested", 1 << 20, 1 << 17, 2,
                    INT64_C(1) << CACHE_KEY_BITS},
    [CACHE_SKEW] = {"skew", "Zipf exponent of the key distribution, in hundredths", 100, 100, 0,
                    400},
    [CACHE_CAPACITY] = {"capacity", "entries an lru cache keeps", 1000, 1000, 1, 1 << 24},
    [CACHE_WINDOW] = {"window", "recently used values the weak variant's program holds", 100,
                      100, 1, 1 << 24},
};

enum { CACHE_UNBOUNDED, CACHE_LRU, CACHE_WEAK };

static const hl_variant_spec cache_variants[] = {
    [CACHE_UNBOUNDED] = {"unbounded", "a plain dict: every key ever requested stays (the leak)"},
    [CACHE_LRU] = {"lru", "bounded: evicts the least recently used beyond `capacity`"},
    [CACHE_WEAK] = {"weak", "weak-valued: entries vanish when the program drops the value"},
};

#define CACHE_QUANTILE_BITS 16
#define CACHE_QUANTILES (1u << CACHE_QUANTILE_BITS)
#define CACHE_NONE (-1)
#define CACHE_MIN_SLOTS 8 /* a new dict's size, as CPython's PyDict_MINSIZE */
#define CACHE_VALUE_MIN 64
#define CACHE_VALUE_STEPS 25 /* sizes 64, 72, ... 256 */
#define CACHE_PATTERN_WORD 2 /* the first word of the pattern */

/* The data of one entries slot.  A slot is in use when the entries object's
 * reference i is not NULL. */
typedef struct cache_slot {
    uint64_t key;
    int32_t chain;    /* next slot in the same bucket, or CACHE_NONE */
    int32_t lru_prev; /* lru: towards the most recently used; free slots: unused */
    int32_t lru_next; /* lru: towards the least recently used; free slots: next free */
    int32_t unused;
} cache_slot;

static const hl_type cache_entries_type = {.name = "cache.entries"};
static const hl_type cache_index_type = {.name = "cache.index"};
static const hl_type cache_value_type = {.name = "cache.value"};

typedef struct cache {
    const hl_gc *gc;
    int manual;
    unsigned variant;
    uint64_t seed;
    uint32_t keys;
    uint32_t *quantile; /* [CACHE_QUANTILES + 1] ranks: the Zipf inverse CDF */
    hl_rng rng;

    /* The table. */
    hl_object *entries, *index;
    uint32_t slots;      /* entries->nrefs */
    unsigned bucket_bits; /* nbuckets = 1 << bucket_bits */
    uint32_t count;      /* slots in use */
    uint32_t next_unused; /* slots >= this were never used since the last resize */
    int32_t free_head;   /* vacated slots, linked through lru_next */
    int32_t lru_head, lru_tail;

    /* The weak variant's program: the last `window` values used. */
    hl_object **ring;
    uint32_t window, ring_pos;

    uint64_t ops_done, checksum;
    uint64_t id; /* instance number (cache_live), 0 when not registered */
    uint64_t hits, misses, evictions, vanished, resizes;
} cache;

/* ------------------------------------------------------- open caches -- */

/* The caches open on this thread, by instance number modulo
 * CACHE_INSTANCES (the weak callbacks' way back: see the design comment).
 * A collector runs callbacks on the thread that drives it, which is the
 * thread that runs its workload. */
#define CACHE_INSTANCES 64

static _Thread_local cache *cache_live[CACHE_INSTANCES];
static _Thread_local uint64_t cache_last_id;

/* Give c an instance number and a place in cache_live.  Returns 0, or -1
 * when CACHE_INSTANCES caches are open on this thread. */
static int cache_register(cache *c)
{
    for (int tries = 0; tries < CACHE_INSTANCES; tries++) {
        uint64_t id = ++cache_last_id;
        if (id >= (UINT64_C(1) << (64 - CACHE_KEY_BITS)))
            id = cache_last_id = 1;
        if (cache_live[id % CACHE_INSTANCES] == NULL) {
            c->id = id;
            cache_live[id % CACHE_INSTANCES] = c;
            return 0;
        }
    }
    return -1;
}

static void cache_unregister(cache *c)
{
    if (c->id != 0)
        cache_live[c->id % CACHE_INSTANCES] = NULL;
    c->id = 0;
}

/* The open cache with instance number id, or NULL once it finished. */
static cache *cache_find(uint64_t id)
{
    cache *c = cache_live[id % CACHE_INSTANCES];
    return c != NULL && c->id == id ? c : NULL;
}

static uint64_t cache_ops(const hl_workload_config *cfg)
{
    return (uint64_t)cfg->params[CACHE_OPS];
}

static inline cache_slot *cache_slots(const cache *c)
{
    return hl_object_data(c->entries);
}

static inline int32_t *cache_heads(const cache *c)
{
    return hl_object_data(c->index);
}

/* Fibonacci hashing: the top bits of key times 2^64 / phi. */
static inline uint32_t cache_bucket(const cache *c, uint64_t key)
{
    return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> (64 - c->bucket_bits));
}

/* ------------------------------------------------------------ requests -- */

/* Fill the quantile table of the Zipf distribution with exponent s over
 * `keys` ranks: quantile[j] is the rank that probability j / 2^16 falls in.
 * O(keys) pow() calls, in setup. */
static void cache_build_quantiles(uint32_t *q, uint32_t keys, double s)
{
    double total = 0;
    for (uint32_t r = 0; r < keys; r++)
        total += pow((double)r + 1, -s);
    double step = total / CACHE_QUANTILES, cum = 0;
    uint32_t j = 0;
    for (uint32_t r = 0; r < keys && j < CACHE_QUANTILES; r++) {
        cum += pow((double)r + 1, -s);
        while (j < CACHE_QUANTILES && cum > j * step)
            q[j++] = r;
    }
    while (j <= CACHE_QUANTILES)
        q[j++] = keys - 1;
}

/* The next requested key: one draw, the top 16 bits pick the quantile, the
 * low 32 a rank within it. */
static inline uint64_t cache_next_key(cache *c)
{
    uint64_t r = hl_rng_next(&c->rng);
    uint32_t j = (uint32_t)(r >> (64 - CACHE_QUANTILE_BITS));
    uint32_t lo = c->quantile[j], hi = c->quantile[j + 1];
    return lo + hl_rng_below((uint32_t)r, hi - lo + 1);
}

/* -------------------------------------------------------------- values -- */

static inline uint32_t cache_value_size(const cache *c, uint64_t key)
{
    uint64_t h = hl_mix64(key ^ c->seed ^ 0x5bd1e9955bd1e995ull);
    return CACHE_VALUE_MIN + 8 * (uint32_t)(h % CACHE_VALUE_STEPS);
}

static inline uint64_t cache_pattern(uint64_t base, uint32_t word)
{
    return base ^ (word * 0x9e3779b97f4a7c15ull);
}

/* Word 1 of a value: how many ring places hold it (the weak variant). */
static inline uint64_t *cache_pins(hl_object *v)
{
    return (uint64_t *)hl_object_data(v) + 1;
}

/* A new value for key, written, with one workload reference; NULL when
 * memory is exhausted. */
static hl_object *cache_make_value(cache *c, uint64_t key)
{
    uint32_t size = cache_value_size(c, key);
    hl_object *v = hl_new(c->gc, &cache_value_type, 0, size);
    if (v == NULL)
        return NULL;
    uint64_t *w = hl_object_data(v), base = hl_mix64(key ^ c->seed);
    w[0] = key;
    w[1] = 0;
    for (uint32_t i = CACHE_PATTERN_WORD; i < size / 8; i++)
        w[i] = cache_pattern(base, i);
    return v;
}

/* Check that v is key's value, whole, and fold it into the checksum. */
static int cache_check_value(cache *c, hl_object *v, uint64_t key, hl_error *err)
{
    uint32_t size = cache_value_size(c, key);
    const uint64_t *w = hl_object_data(v);
    if (v->data_size != size || v->nrefs != 0 || w[0] != key)
        return hl_fail(err, "cache value %p is not key %" PRIu64 "'s (key word %" PRIu64
                       ", %u bytes, expected %u)", (void *)v, key, w[0], v->data_size, size);
    uint64_t base = hl_mix64(key ^ c->seed);
    for (uint32_t i = CACHE_PATTERN_WORD; i < size / 8; i++)
        if (w[i] != cache_pattern(base, i))
            return hl_fail(err, "cache value of key %" PRIu64 " corrupted at word %u: %016"
                           PRIx64 ", expected %016" PRIx64, key, i, w[i], cache_pattern(base, i));
    c->checksum = (c->checksum ^ w[CACHE_PATTERN_WORD]) * 0x100000001b3ull;
    return 0;
}

/* Drop one reference the program holds to value v; under manual, free it
 * when it was the last (pins count the ring places holding it). */
static void cache_unpin(cache *c, hl_object *v)
{
    uint64_t pins = --*cache_pins(v);
    hl_release(c->gc, v);
    if (c->manual && pins == 0)
        hl_free_object(c->gc, v);
}

/* The weak variant's program uses v: keep it in the ring, dropping the
 * oldest.  `owned`: the caller's reference passes to the ring. */
static void cache_ring_push(cache *c, hl_object *v, int owned)
{
    hl_object *old = c->ring[c->ring_pos];
    if (!owned)
        hl_retain(c->gc, v);
    ++*cache_pins(v); /* before the old one goes: it may be v */
    c->ring[c->ring_pos] = v;
    c->ring_pos = c->ring_pos + 1 == c->window ? 0 : c->ring_pos + 1;
    if (old != NULL)
        cache_unpin(c, old);
}

/* --------------------------------------------------------------- table -- */

/* A new, empty table of `slots` entries (nbuckets: the power of two >=
 * slots), replacing nothing.  Returns 0, or -1 when memory is exhausted. */
static int cache_table_new(cache *c, uint32_t slots, hl_object **entries, hl_object **index,
                           unsigned *bits)
{
    unsigned b = 3;
    while ((1u << b) < slots)
        b++;
    *entries = hl_new(c->gc, &cache_entries_type, slots, (uint32_t)(slots * sizeof(cache_slot)));
    if (*entries == NULL)
        return -1;
    *index = hl_new(c->gc, &cache_index_type, 0, (uint32_t)((1u << b) * sizeof(int32_t)));
    if (*index == NULL) {
        hl_release(c->gc, *entries);
        if (c->manual)
            hl_free_object(c->gc, *entries);
        *entries = NULL;
        return -1;
    }
    memset(hl_object_data(*index), 0xff, (1u << b) * sizeof(int32_t)); /* CACHE_NONE */
    *bits = b;
    return 0;
}

/* Drop the table objects (not what they hold: under manual, those were
 * freed or moved). */
static void cache_table_drop(cache *c, hl_object *entries, hl_object *index)
{
    hl_release(c->gc, entries);
    hl_release(c->gc, index);
    if (c->manual) {
        hl_free_object(c->gc, entries);
        hl_free_object(c->gc, index);
    }
}

/* The slot holding key, or CACHE_NONE. */
static inline int32_t cache_lookup(const cache *c, uint64_t key)
{
    const cache_slot *s = cache_slots(c);
    int32_t i = cache_heads(c)[cache_bucket(c, key)];
    while (i != CACHE_NONE && s[i].key != key)
        i = s[i].chain;
    return i;
}

static void cache_lru_unlink(cache *c, int32_t i)
{
    cache_slot *s = cache_slots(c);
    if (s[i].lru_prev != CACHE_NONE)
        s[s[i].lru_prev].lru_next = s[i].lru_next;
    else
        c->lru_head = s[i].lru_next;
    if (s[i].lru_next != CACHE_NONE)
        s[s[i].lru_next].lru_prev = s[i].lru_prev;
    else
        c->lru_tail = s[i].lru_prev;
}

static void cache_lru_push_front(cache *c, int32_t i)
{
    cache_slot *s = cache_slots(c);
    s[i].lru_prev = CACHE_NONE;
    s[i].lru_next = c->lru_head;
    if (c->lru_head != CACHE_NONE)
        s[c->lru_head].lru_prev = i;
    else
        c->lru_tail = i;
    c->lru_head = i;
}

/* Put obj (a value, or a weak reference to one) under key in a free slot;
 * the table takes its own reference.  Requires count < slots. */
static void cache_insert(cache *c, uint64_t key, hl_object *obj)
{
    cache_slot *s = cache_slots(c);
    int32_t i;
    if (c->free_head != CACHE_NONE) {
        i = c->free_head;
        c->free_head = s[i].lru_next;
    } else {
        i = (int32_t)c->next_unused++;
    }
    hl_store(c->gc, c->entries, (uint32_t)i, obj);
    int32_t *head = &cache_heads(c)[cache_bucket(c, key)];
    s[i].key = key;
    s[i].chain = *head;
    *head = i;
    if (c->variant == CACHE_LRU)
        cache_lru_push_front(c, i);
    c->count++;
}

/* Remove slot i's entry; what it held loses the table's reference (under
 * manual it is freed: an evicted value, or a weak reference). */
static void cache_remove(cache *c, int32_t i)
{
    cache_slot *s = cache_slots(c);
    int32_t *link = &cache_heads(c)[cache_bucket(c, s[i].key)];
    while (*link != i)
        link = &s[*link].chain;
    *link = s[i].chain;
    if (c->variant == CACHE_LRU)
        cache_lru_unlink(c, i);
    hl_object *obj = c->entries->refs[i];
    hl_store(c->gc, c->entries, (uint32_t)i, NULL);
    if (c->manual)
        hl_free_object(c->gc, obj);
    s[i].lru_next = c->free_head;
    c->free_head = i;
    c->count--;
}

/* Move every entry into a new table of `slots` slots (>= count), in slot
 * order, and drop the old one.  Returns 0, or -1 with err set. */
static int cache_resize(cache *c, uint32_t slots, hl_error *err)
{
    hl_object *entries, *index;
    unsigned bits;
    if (cache_table_new(c, slots, &entries, &index, &bits) != 0)
        return hl_fail(err, "out of memory growing the cache to %u slots", slots);
    hl_object *old_entries = c->entries, *old_index = c->index;
    const cache_slot *old = cache_slots(c);
    uint32_t old_used = c->next_unused;
    c->entries = entries;
    c->index = index;
    c->slots = slots;
    c->bucket_bits = bits;
    c->count = 0;
    c->next_unused = 0;
    c->free_head = CACHE_NONE;
    for (uint32_t i = 0; i < old_used; i++)
        if (old_entries->refs[i] != NULL)
            cache_insert(c, old[i].key, old_entries->refs[i]);
    cache_table_drop(c, old_entries, old_index);
    c->resizes++;
    return 0;
}

/* Make room for one more entry: evict (lru), or grow (unbounded, weak: a
 * weak table's dead entries are gone already, removed by their callbacks).
 * Returns 0, or -1 with err set. */
static int cache_make_room(cache *c, hl_error *err)
{
    if (c->count < c->slots)
        return 0;
    if (c->variant == CACHE_LRU) {
        cache_remove(c, c->lru_tail);
        c->evictions++;
        return 0;
    }
    if (c->slots > UINT32_MAX / 2 / sizeof(cache_slot))
        return hl_fail(err, "the cache cannot grow beyond %u slots", c->slots);
    return cache_resize(c, c->slots * 2, err);
}

/* A weak entry's value died: remove the entry, if it is still the one
 * that weak reference stands for (WeakValueDictionary's _remove_dead_weakref
 * makes the same check).  `keyed` packs the cache's instance number and the
 * key.  The table drops its reference to w here, so w may die in its own
 * callback: every collector allows that. */
static void cache_on_value_death(hl_object *w, void *keyed)
{
    uint64_t packed = (uintptr_t)keyed;
    cache *c = cache_find(packed >> CACHE_KEY_BITS);
    if (c == NULL)
        return;
    int32_t i = cache_lookup(c, packed & ((UINT64_C(1) << CACHE_KEY_BITS) - 1));
    if (i == CACHE_NONE || c->entries->refs[i] != w)
        return;
    cache_remove(c, i);
    c->vanished++;
}

/* ------------------------------------------------------------- request -- */

static int cache_request(cache *c, uint64_t key, hl_error *err)
{
    int32_t i = cache_lookup(c, key);
    if (i != CACHE_NONE) {
        hl_object *v = c->entries->refs[i];
        if (c->variant == CACHE_WEAK && (v = hl_weak_get(c->gc, v)) == NULL)
            return hl_fail(err, "the weak entry of key %" PRIu64 " outlived its value: "
                           "its weak reference's callback did not remove it", key);
        {
            if (cache_check_value(c, v, key, err) != 0)
                return -1;
            c->hits++;
            if (c->variant == CACHE_LRU && c->lru_head != i) {
                cache_lru_unlink(c, i);
                cache_lru_push_front(c, i);
            } else if (c->variant == CACHE_WEAK) {
                cache_ring_push(c, v, 0);
            }
            return 0;
        }
    }
    c->misses++;
    if (cache_make_room(c, err) != 0)
        return -1;
    hl_object *v = cache_make_value(c, key);
    if (v == NULL)
        return hl_fail(err, "out of memory for the value of key %" PRIu64 " after %" PRIu64
                       " requests", key, c->ops_done);
    if (cache_check_value(c, v, key, err) != 0)
        return -1;
    if (c->variant != CACHE_WEAK) {
        cache_insert(c, key, v);
        hl_release(c->gc, v); /* the table holds it now */
        return 0;
    }
    void *keyed = (void *)(uintptr_t)((c->id << CACHE_KEY_BITS) | key);
    hl_object *w = hl_weak_new(c->gc, v, cache_on_value_death, keyed);
    if (w == NULL) {
        cache_ring_push(c, v, 1);
        return hl_fail(err, "out of memory for a weak reference after %" PRIu64 " requests",
                       c->ops_done);
    }
    cache_insert(c, key, w);
    hl_release(c->gc, w);
    cache_ring_push(c, v, 1);
    return 0;
}

/* ------------------------------------------------------------ workload -- */

static int cache_setup(const hl_workload_config *cfg, void **state, hl_error *err)
{
    cache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return hl_fail(err, "out of memory for the cache state");
    c->gc = cfg->gc;
    c->manual = hl_gc_is_manual(cfg->gc);
    c->variant = (unsigned)cfg->variant;
    c->seed = cfg->seed;
    c->keys = (uint32_t)cfg->params[CACHE_KEYS];
    c->window = (uint32_t)cfg->params[CACHE_WINDOW];
    c->free_head = c->lru_head = c->lru_tail = CACHE_NONE;
    hl_rng_seed(&c->rng, cfg->seed);
    *state = c; /* finish() releases whatever setup made */
    if (c->variant == CACHE_WEAK && cache_register(c) != 0)
        return hl_fail(err, "more than %d caches open on one thread", CACHE_INSTANCES);
    c->quantile = hl_untracked_alloc(sizeof(uint32_t) * (CACHE_QUANTILES + 1));
    if (c->variant == CACHE_WEAK)
        c->ring = hl_untracked_alloc(sizeof(hl_object *) * c->window);
    if (c->quantile == NULL || (c->variant == CACHE_WEAK && c->ring == NULL))
        return hl_fail(err, "out of memory for the cache's bookkeeping");
    cache_build_quantiles(c->quantile, c->keys, (double)cfg->params[CACHE_SKEW] / 100.0);
    uint32_t slots = c->variant == CACHE_LRU ? (uint32_t)cfg->params[CACHE_CAPACITY]
                                             : CACHE_MIN_SLOTS;
    if (cache_table_new(c, slots, &c->entries, &c->index, &c->bucket_bits) != 0)
        return hl_fail(err, "out of memory for a cache table of %u slots", slots);
    c->slots = slots;
    return 0;
}

static int cache_step(void *state, uint64_t n, hl_error *err)
{
    cache *c = state;
    for (uint64_t i = 0; i < n; i++) {
        if (cache_request(c, cache_next_key(c), err) != 0)
            return -1;
        c->ops_done++;
    }
    return 0;
}

/* The weak table holds no entry whose value died: each left through its
 * callback.  Returns 0, or -1 with err set.  O(slots). */
static int cache_check_no_dead(const cache *c, hl_error *err)
{
    if (c->variant != CACHE_WEAK || c->entries == NULL)
        return 0;
    for (uint32_t i = 0; i < c->next_unused; i++) {
        hl_object *w = c->entries->refs[i];
        if (w != NULL && hl_weak_get(c->gc, w) == NULL)
            return hl_fail(err, "the weak entry of key %" PRIu64 " outlived its value: its "
                           "weak reference's callback did not remove it",
                           cache_slots(c)[i].key);
    }
    return 0;
}

static int cache_finish(void *state, hl_workload_result *res, hl_error *err)
{
    cache *c = state;
    int rc = cache_check_no_dead(c, err);
    res->ops = c->ops_done;
    res->checksum = c->checksum;
    hl_stats_add(&res->figures, "hits", "count", (double)c->hits);
    hl_stats_add(&res->figures, "misses", "count", (double)c->misses);
    hl_stats_add(&res->figures, "evictions", "count", (double)c->evictions);
    hl_stats_add(&res->figures, "vanished", "count", (double)c->vanished);
    hl_stats_add(&res->figures, "entries", "count", (double)c->count);
    hl_stats_add(&res->figures, "table_slots", "count", (double)c->slots);
    hl_stats_add(&res->figures, "resizes", "count", (double)c->resizes);
    /* From here callbacks find no cache: the teardown below frees every
     * entry itself, and the table must not change under it. */
    cache_unregister(c);
    if (c->ring != NULL) {
        for (uint32_t i = 0; i < c->window; i++)
            if (c->ring[i] != NULL)
                cache_unpin(c, c->ring[i]);
        hl_untracked_free(c->ring, sizeof(hl_object *) * c->window);
    }
    if (c->entries != NULL) {
        if (c->manual)
            for (uint32_t i = 0; i < c->next_unused; i++)
                if (c->entries->refs[i] != NULL)
                    hl_free_object(c->gc, c->entries->refs[i]);
        cache_table_drop(c, c->entries, c->index);
    }
    if (c->quantile != NULL)
        hl_untracked_free(c->quantile, sizeof(uint32_t) * (CACHE_QUANTILES + 1));
    free(c);
    return rc;
}

static const hl_workload_ops cache_ops_table = {
    .name = "cache",
    .description = "a dict as a cache under Zipf-like requests: unbounded leaks, lru and weak "
                   "stay bounded",
    .default_collector = "refcount",
    .params = cache_params,
    .nparams = sizeof cache_params / sizeof cache_params[0],
    .variants = cache_variants,
    .nvariants = sizeof cache_variants / sizeof cache_variants[0],
    .ops = cache_ops,
    .setup = cache_setup,
    .step = cache_step,
    .finish = cache_finish,
};

const hl_workload_ops *hl_cache_workload(void)
{
    return &cache_ops_table;
}
