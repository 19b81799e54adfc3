/*
 * slots.c - `--workload=slots`: `__slots__` against a per-object __dict__.
 *
 * The lesson: an ordinary Python instance keeps its attributes in a hash
 * table of its own (its __dict__), allocated beside it; a class with
 * `__slots__` stores them in fixed fields of the instance, found through a
 * member descriptor resolved once per class.  Slotted objects are smaller
 * (one object, no table, no spare capacity) and an attribute access is an
 * indexed load instead of a hash probe.
 *
 * The model: a population of `objects` instances with `attrs` attributes
 * each, built in setup, then `accesses` attribute accesses, each a seeded
 * get or set (`set_percent` of them sets) of a random attribute of a random
 * object.  One op = one attribute access, so ns_per_op is the time of an
 * access.
 *
 * Variants:
 *   dict   an instance = an object with one reference (its __dict__) plus a
 *          separately allocated dict object: an open-addressing table of
 *          (interned attribute id, value) pairs, sized as CPython sizes
 *          dicts -- a power of two, at least 8, holding at most 2/3 of its
 *          slots -- probed as CPython probes (i = 5i + perturb + 1, perturb
 *          >>= 5), with each attribute name's hash cached as in an interned
 *          string.  A plain per-object table, as before PEP 412's key
 *          sharing: CPython 3.11+ shares keys between instances of a class,
 *          so its real gap is smaller than this one.
 *   slots  an instance = one object with `attrs` value fields; the
 *          attribute -> field index is resolved once per class, as a member
 *          descriptor's offset is, and each access is one indexed load.
 *
 *     dict:   instance [hdr | __dict__] --> dict [hdr | mask used | (key value) x 2^k]
 *     slots:  instance [hdr | v0 v1 ... v(attrs-1)]
 *
 * Values are 64-bit words (think small ints): the high half is payload, the
 * low half names the (object, attribute) it belongs to, and every read
 * checks it, so a probe that lands on the wrong entry is caught.  Both
 * variants hold the same values and draw the same numbers, so they end with
 * the same checksum.
 *
 * Figures: bytes_per_object, measured, not computed: the tracker's live
 * bytes after setup built the population less those before, divided by
 * `objects` -- what the allocator was asked for per instance, the
 * collector's prefix and the dict included.  It is left out of runs that
 * have no tracker (cfg->tracker NULL: timed runs, a collector with its own
 * heap).  Also attributes_per_object, dict_slots (dict variant), objects.
 *
 * Default collector: refcount, CPython's own; every collector runs it.
 * Parameters: objects, attrs, accesses, set_percent; seed from --seed (it
 * also salts the attribute names' hashes, as PYTHONHASHSEED does).
 */
#include "workloads/rng.h"
#include "workloads/workload.h"

#include <inttypes.h>
#include <stdlib.h>

enum { SLOTS_OBJECTS, SLOTS_ATTRS, SLOTS_ACCESSES, SLOTS_SET_PERCENT };

#define SLOTS_MAX_ATTRS 64

static const hl_param_spec slots_params[] = {
    [SLOTS_OBJECTS] = {"objects", "instances in the population", 100000, 10000, 1, 10000000},
    [SLOTS_ATTRS] = {"attrs", "attributes per instance", 5, 5, 1, SLOTS_MAX_ATTRS},
    [SLOTS_ACCESSES] = {"accesses", "attribute accesses (gets and sets) per run", 10000000,
                        200000, 1, INT64_C(1000000000000)},
    [SLOTS_SET_PERCENT] = {"set_percent", "percentage of accesses that are sets", 25, 25, 0,
                           100},
};

enum { SLOTS_DICT, SLOTS_SLOTS };

static const hl_variant_spec slots_variants[] = {
    [SLOTS_DICT] = {"dict", "instance plus a per-object hash table (__dict__)"},
    [SLOTS_SLOTS] = {"slots", "__slots__: values in fixed fields of the instance"},
};

static const hl_type slots_instance_type = {.name = "instance"};
/* A dict of atomic values: no reference slots, so never tracked under cycle,
 * as CPython untracks a dict of atoms (its kind says what it models). */
static const hl_type slots_dict_type = {.name = "dict", .kind = HL_KIND_DICT};
static const hl_type slots_slotted_type = {.name = "slotted_instance"};

/* CPython's smallest dict table (PyDict_MINSIZE). */
#define SLOTS_DICT_MINSIZE 8u
/* Words of a dict object before its table: mask, used. */
#define SLOTS_DICT_HEADER 2u
#define SLOTS_PERTURB_SHIFT 5

/* What a class knows about its attributes: the cached hash of each
 * interned name, and (slots) each one's field index. */
typedef struct slots_class {
    uint32_t nattrs;
    uint32_t table_size; /* dict: slots of each instance's table */
    uint64_t hash[SLOTS_MAX_ATTRS];
    uint32_t field_of[SLOTS_MAX_ATTRS];
} slots_class;

typedef struct slots {
    const hl_gc *gc;
    int manual;
    int dict;
    slots_class cls;
    hl_object **objects; /* the population, each held by a workload reference */
    uint32_t nobjects;
    uint32_t set_percent;
    uint64_t seed;
    int measured;                /* population_bytes is a measurement */
    uint64_t population_bytes;   /* tracker live bytes the population took */
    uint64_t ops_done;
    uint64_t checksum;
    hl_rng rng;
} slots;

static uint64_t slots_ops(const hl_workload_config *cfg)
{
    return (uint64_t)cfg->params[SLOTS_ACCESSES];
}

static inline void slots_fold(slots *s, uint64_t v)
{
    s->checksum = (s->checksum ^ v) * 0x100000001b3ull;
}

/* The tag in the low half of every value of (object, attribute). */
static inline uint32_t slots_tag(const slots *s, uint32_t obj, uint32_t attr)
{
    return obj * s->cls.nattrs + attr;
}

/* The smallest CPython-like table for n keys: a power of two >= 8 with n
 * <= 2/3 of it (USABLE_FRACTION). */
static uint32_t slots_table_size(uint32_t n)
{
    uint32_t size = SLOTS_DICT_MINSIZE;
    while (n > size * 2 / 3)
        size *= 2;
    return size;
}

static inline uint32_t slots_dict_data(uint32_t table_size)
{
    return (SLOTS_DICT_HEADER + 2 * table_size) * (uint32_t)sizeof(uint64_t);
}

/* The entry of `attr` in dict table d: its value word, or, when absent, the
 * empty key slot where it would go (its key word is then 0).  Keys are
 * attr + 1; 0 marks an empty slot.  Costs one probe on average at load
 * <= 2/3; the table is never full, so the probe ends. */
static inline uint64_t *slots_dict_probe(const slots_class *cls, uint64_t *d, uint32_t attr)
{
    uint64_t mask = d[0], hash = cls->hash[attr], perturb = hash;
    uint64_t *table = d + SLOTS_DICT_HEADER;
    uint64_t i = hash & mask;
    for (;;) {
        uint64_t key = table[2 * i];
        if (key == attr + 1u || key == 0)
            return &table[2 * i + 1];
        perturb >>= SLOTS_PERTURB_SHIFT;
        i = (i * 5 + perturb + 1) & mask;
    }
}

/* The value word of `attr` in instance o, or NULL when the dict lacks it. */
static inline uint64_t *slots_attr(const slots *s, hl_object *o, uint32_t attr)
{
    if (!s->dict)
        return (uint64_t *)hl_object_data(o) + s->cls.field_of[attr];
    uint64_t *d = hl_object_data(o->refs[0]);
    uint64_t *v = slots_dict_probe(&s->cls, d, attr);
    return v[-1] == 0 ? NULL : v;
}

/* Build the class: hash each attribute name; for slots, resolve each
 * attribute's field once by finding it in the class's __slots__ list (here
 * declared in attribute order). */
static void slots_make_class(slots *s, uint32_t nattrs)
{
    slots_class *cls = &s->cls;
    cls->nattrs = nattrs;
    cls->table_size = slots_table_size(nattrs);
    uint32_t declared[SLOTS_MAX_ATTRS];
    for (uint32_t a = 0; a < nattrs; a++) {
        cls->hash[a] = hl_mix64(s->seed ^ (0x51075107u + (uint64_t)a));
        declared[a] = a;
    }
    for (uint32_t a = 0; a < nattrs; a++)
        for (uint32_t f = 0; f < nattrs; f++)
            if (declared[f] == a)
                cls->field_of[a] = f;
}

/* Make instance i with its initial attribute values (set in attribute
 * order, as __init__ would). */
static int slots_make(slots *s, uint32_t i, hl_error *err)
{
    hl_object *o;
    if (s->dict) {
        o = hl_new(s->gc, &slots_instance_type, 1, 0);
        hl_object *d = o ? hl_new(s->gc, &slots_dict_type, 0,
                                  slots_dict_data(s->cls.table_size)) : NULL;
        if (d == NULL) {
            if (o != NULL) {
                if (s->manual)
                    hl_free_object(s->gc, o);
                else
                    hl_release(s->gc, o);
            }
            return hl_fail(err, "out of memory: instance %u of %u", i, s->nobjects);
        }
        uint64_t *words = hl_object_data(d);
        words[0] = s->cls.table_size - 1;
        hl_store(s->gc, o, 0, d);
        if (!s->manual)
            hl_release(s->gc, d);
    } else {
        o = hl_new(s->gc, &slots_slotted_type, 0, s->cls.nattrs * (uint32_t)sizeof(uint64_t));
        if (o == NULL)
            return hl_fail(err, "out of memory: instance %u of %u", i, s->nobjects);
    }
    s->objects[i] = o;
    for (uint32_t a = 0; a < s->cls.nattrs; a++) {
        uint32_t tag = slots_tag(s, i, a);
        uint64_t value = (hl_mix64(s->seed + tag) << 32) | tag;
        if (s->dict) {
            uint64_t *d = hl_object_data(o->refs[0]);
            uint64_t *v = slots_dict_probe(&s->cls, d, a);
            v[-1] = a + 1u;
            v[0] = value;
            d[1]++;
        } else {
            ((uint64_t *)hl_object_data(o))[s->cls.field_of[a]] = value;
        }
    }
    return 0;
}

/* Drop instance o (and its dict). */
static void slots_drop(slots *s, hl_object *o)
{
    if (!s->manual) {
        hl_release(s->gc, o);
        return;
    }
    if (s->dict)
        hl_free_object(s->gc, o->refs[0]);
    hl_free_object(s->gc, o);
}

static int slots_setup(const hl_workload_config *cfg, void **state, hl_error *err)
{
    slots *s = calloc(1, sizeof *s);
    if (s == NULL)
        return hl_fail(err, "out of memory for the slots state");
    s->gc = cfg->gc;
    s->manual = hl_gc_is_manual(cfg->gc);
    s->dict = cfg->variant == SLOTS_DICT;
    s->nobjects = (uint32_t)cfg->params[SLOTS_OBJECTS];
    s->set_percent = (uint32_t)cfg->params[SLOTS_SET_PERCENT];
    s->seed = cfg->seed;
    hl_rng_seed(&s->rng, cfg->seed);
    slots_make_class(s, (uint32_t)cfg->params[SLOTS_ATTRS]);
    s->objects = hl_untracked_alloc(sizeof(hl_object *) * s->nobjects);
    if (s->objects == NULL) {
        uint32_t n = s->nobjects;
        free(s);
        return hl_fail(err, "out of memory for a population of %u", n);
    }
    *state = s;
    uint64_t before = cfg->tracker ? hl_tracker_read(cfg->tracker).live_bytes : 0;
    for (uint32_t i = 0; i < s->nobjects; i++)
        if (slots_make(s, i, err) != 0)
            return -1; /* finish() drops what was made */
    if (cfg->tracker != NULL) {
        s->measured = 1;
        s->population_bytes = hl_tracker_read(cfg->tracker).live_bytes - before;
    }
    return 0;
}

/* Two draws per access: the first picks the object (high half) and the
 * attribute (low half), the second get or set (high half) and the payload
 * of a set (low half). */
static int slots_step(void *state, uint64_t n, hl_error *err)
{
    slots *s = state;
    for (uint64_t k = 0; k < n; k++) {
        uint64_t r1 = hl_rng_next(&s->rng), r2 = hl_rng_next(&s->rng);
        uint32_t obj = hl_rng_below((uint32_t)(r1 >> 32), s->nobjects);
        uint32_t attr = hl_rng_below((uint32_t)r1, s->cls.nattrs);
        uint32_t tag = slots_tag(s, obj, attr);
        uint64_t *v = slots_attr(s, s->objects[obj], attr);
        if (__builtin_expect(v == NULL || (uint32_t)*v != tag, 0))
            return hl_fail(err, "attribute %u of object %u: %s (access %" PRIu64 ")", attr, obj,
                           v == NULL ? "missing from its dict" : "holds another's value",
                           s->ops_done);
        if (hl_rng_below((uint32_t)(r2 >> 32), 100) < s->set_percent)
            *v = (r2 << 32) | tag;
        else
            slots_fold(s, *v);
        s->ops_done++;
    }
    return 0;
}

static int slots_finish(void *state, hl_workload_result *res, hl_error *err)
{
    slots *s = state;
    int rc = 0;
    for (uint32_t i = 0; i < s->nobjects && s->objects[i] != NULL; i++) {
        hl_object *o = s->objects[i];
        if (rc == 0 && s->dict) {
            uint64_t used = ((const uint64_t *)hl_object_data(o->refs[0]))[1];
            if (used != s->cls.nattrs)
                rc = hl_fail(err, "dict of object %u holds %" PRIu64 " attributes, not %u", i,
                             used, s->cls.nattrs);
        }
        for (uint32_t a = 0; rc == 0 && a < s->cls.nattrs; a++) {
            const uint64_t *v = slots_attr(s, o, a);
            if (v == NULL || (uint32_t)*v != slots_tag(s, i, a))
                rc = hl_fail(err, "attribute %u of object %u lost its value", a, i);
            else
                slots_fold(s, *v);
        }
        slots_drop(s, o);
    }
    if (s->measured)
        hl_stats_add(&res->figures, "bytes_per_object", "bytes",
                     (double)s->population_bytes / (double)s->nobjects);
    hl_stats_add(&res->figures, "attributes_per_object", "attributes", (double)s->cls.nattrs);
    if (s->dict)
        hl_stats_add(&res->figures, "dict_slots", "slots", (double)s->cls.table_size);
    hl_stats_add(&res->figures, "objects", "objects", (double)s->nobjects);
    res->ops = s->ops_done;
    res->checksum = s->checksum;
    hl_untracked_free(s->objects, sizeof(hl_object *) * s->nobjects);
    free(s);
    return rc;
}

static const hl_workload_ops slots_ops_table = {
    .name = "slots",
    .description = "__slots__ vs __dict__: attribute access on a population of instances; "
                   "one op = one get or set",
    .default_collector = "refcount",
    .params = slots_params,
    .nparams = sizeof slots_params / sizeof slots_params[0],
    .variants = slots_variants,
    .nvariants = sizeof slots_variants / sizeof slots_variants[0],
    .flags = 0,
    .ops = slots_ops,
    .setup = slots_setup,
    .step = slots_step,
    .finish = slots_finish,
};

const hl_workload_ops *hl_slots_workload(void)
{
    return &slots_ops_table;
}
