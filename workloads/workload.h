/*
 * workload.h - what a heaplab workload is.
 *
 * A workload is a const method table with a name, a description, the
 * collector it runs under by default, its parameters (each with a full-size
 * default and a --quick value) and its variants.  It does fixed work: its
 * `ops` method says how many operations one run performs, from the
 * parameters alone, so that a faster strategy can never be one that did
 * less.  Every random choice comes from the seed, so the same seed gives the
 * same allocation sequence under every strategy, and each run ends with a
 * checksum of what it read back from memory.
 *
 * A run has three phases, driven by the harness:
 *   setup   untimed: build the initial live set;
 *   step    timed, called repeatedly: perform the next `n` operations;
 *   finish  untimed: free everything, verify, report the checksum.
 * Workloads see the interfaces only, never a concrete allocator or
 * collector.  Raw-byte workloads (churn, the classic allocator benchmarks)
 * use cfg->alloc and run under `manual`; object workloads use cfg->gc and
 * leave every object's death to it (freeing explicitly only when
 * hl_gc_is_manual).  finish() drops every reference the workload holds; the
 * harness then runs a full collection, and whatever is still allocated is
 * leaked (refcount's cycles).
 *
 * To add a workload: write workloads/<name>.c exporting one getter, declare
 * the getter below, add it to registry.c and to CMakeLists.txt.
 */
#ifndef HEAPLAB_WORKLOAD_H
#define HEAPLAB_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "allocators/allocator.h"
#include "collectors/collector.h"

/* A one-line error; library code fills it instead of printing. */
typedef struct hl_error {
    char msg[256];
} hl_error;

/* Set err->msg printf-style; returns -1 so callers can `return hl_fail(...)`. */
int hl_fail(hl_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

typedef struct hl_param_spec {
    const char *name;
    const char *description;
    int64_t def;   /* the full-size default */
    int64_t quick; /* the value under --quick */
    int64_t min, max;
} hl_param_spec;

/* A constraint between two parameters: params[lesser] <= params[greater]
 * (a size range's min and max).  The harness checks every declared order
 * on the resolved values before any cell runs, so a bad pair is one line
 * and exit 2, never a failed cell. */
typedef struct hl_param_order {
    size_t lesser, greater; /* indices into the param table */
} hl_param_order;

typedef struct hl_variant_spec {
    const char *name;
    const char *description;
} hl_variant_spec;

/* What one run of a workload is given. */
typedef struct hl_workload_config {
    const hl_allocator *alloc; /* raw bytes, for workloads that allocate them */
    const hl_gc *gc;           /* objects, for workloads of the object model: a
                                  collector over that same allocator */
    const int64_t *params;              /* values, in the order of the param table */
    size_t variant;                     /* index into the variant table */
    uint64_t seed;
    /* The live-bytes oracle of this run: the tracker (hl_tracker_read)
     * that `alloc` and `gc` allocate through, or NULL when the run is not
     * tracked (timed and instruction passes, a collector with its own
     * heap).  A workload whose figure is a measurement of memory reads it
     * here and leaves the figure out when it is NULL; it never allocates
     * or frees through it. */
    const hl_allocator *tracker;
    /* Text parameters' values in the order of the param table: the text
     * given, or NULL (not given, and for every numeric parameter); the
     * array itself may be NULL when the workload has no text parameter. */
    const char *const *texts;
    /* Whether `alloc` may be called from several threads at once (the
     * allocator under the decorators is HL_ALLOC_THREAD_SAFE).  A workload
     * whose thread count is not a parameter the harness can refuse (the
     * replay of a recorded trace) serialises its calls when it is 0. */
    int alloc_thread_safe;
} hl_workload_config;

typedef struct hl_workload_result {
    uint64_t ops;      /* operations performed */
    uint64_t checksum; /* of what was read back; identical under every strategy */
    hl_stats figures;  /* the workload's own figures (rows: wl_<name>); literal names */
} hl_workload_result;

enum hl_workload_flags {
    /* step() accepts any number of operations (a steady state), so Google
     * Benchmark may choose the count from --min-time. */
    HL_WORKLOAD_OPEN_ENDED = 1u << 0,
};

/* Threads: a workload that runs several threads declares a parameter named
 * "threads" (default 1).  `bench --threads=1,2,4` sweeps it as a dimension
 * of the matrix, and the harness refuses thread counts above 1 for
 * allocators without HL_ALLOC_THREAD_SAFE and for collectors other than
 * manual (heaplab's collectors are single-threaded).  What a thread count
 * means is the workload's to state in its design comment. */
#define HL_THREADS_PARAM "threads"

typedef struct hl_workload_ops {
    const char *name;
    const char *description;
    const char *default_collector;
    /* What the workload needs of a collector, as hl_gc_flags: it runs under
     * every registered collector whose flags include all of these, never
     * under a list of names, so a new collector needs no workload edit.
     * Object workloads (cfg->gc) leave it 0 and run under every collector.
     * Raw-byte workloads (cfg->alloc only) set HL_GC_MANUAL: every death is
     * theirs to decide, so the collectors that collect are no strategy for
     * them and only the explicit-free ones (manual) run them. */
    unsigned gc_needs;
    const hl_param_spec *params;
    size_t nparams;
    const hl_variant_spec *variants;
    size_t nvariants;
    const hl_param_order *orders; /* may be NULL: no constraints */
    size_t norders;
    unsigned flags;
    /* Text parameters: bit i set when params[i] is a string (a file name:
     * `--param trace=FILE`) rather than a whole number.  A text parameter
     * has no default (its value is NULL when not given: the workload says
     * what it then does), and its def, quick, min and max are ignored.
     * check_text, when set, validates a given text in bench's own process
     * before any cell runs, so a bad value is one line and exit 2, never a
     * failed cell: 0, or -1 with one line in err naming what is wrong and
     * what is valid. */
    uint32_t text_params;
    int (*check_text)(size_t param, const char *text, hl_error *err);
    /* Operations per step() call; 0 means the harness's default (1024).
     * Workloads that run their own threads ask for larger batches, so that
     * handing a batch to the workers costs little against the work. */
    size_t batch;

    /* The number of operations one run performs under `cfg`. */
    uint64_t (*ops)(const hl_workload_config *cfg);
    /* Build the initial state.  Returns 0, or -1 with err set (nothing kept). */
    int (*setup)(const hl_workload_config *cfg, void **state, hl_error *err);
    /* Perform the next n operations.  Returns 0, or -1 with err set
     * (out of memory, or a corrupted block found). */
    int (*step)(void *state, uint64_t n, hl_error *err);
    /* Free everything, verify it, fill `res` and release the state (always,
     * even on error).  Returns 0 or -1 with err set. */
    int (*finish)(void *state, hl_workload_result *res, hl_error *err);
} hl_workload_ops;

const hl_workload_ops *hl_churn_workload(void);
const hl_workload_ops *hl_cycles_workload(void);
const hl_workload_ops *hl_cache_workload(void);
const hl_workload_ops *hl_genlist_workload(void);
const hl_workload_ops *hl_ring_workload(void);
const hl_workload_ops *hl_slots_workload(void);
const hl_workload_ops *hl_trees_workload(void);
const hl_workload_ops *hl_stress_workload(void);
const hl_workload_ops *hl_empty_workload(void);
const hl_workload_ops *hl_larson_workload(void);
const hl_workload_ops *hl_xmalloc_workload(void);
const hl_workload_ops *hl_falseshare_workload(void);
const hl_workload_ops *hl_fragadv_workload(void);
const hl_workload_ops *hl_mlarge_workload(void);
const hl_workload_ops *hl_replay_workload(void);

/* The registry (workloads/registry.c): a static const table of the getters
 * above, in --list order.  hl_workload_at(i) for i < hl_workload_count() is
 * the i-th registered workload; O(1).  hl_workload_find gives the one called
 * `name`, or NULL; O(registered). */
typedef const hl_workload_ops *(*hl_workload_getter)(void);
size_t hl_workload_count(void);
const hl_workload_ops *hl_workload_at(size_t i);
const hl_workload_ops *hl_workload_find(const char *name);

/* Whether params[i] of w is a text parameter. */
int hl_param_is_text(const hl_workload_ops *w, size_t i);
/* Whether some registered workload declares a text parameter `name`
 * (then --param name=... is kept as text, not parsed as a number). */
int hl_param_name_is_text(const char *name);
/* Index of parameter `name` in w's table, or -1. */
int hl_workload_param_index(const hl_workload_ops *w, const char *name);
/* The first of w's declared orders that values[w->nparams] break, or NULL. */
const hl_param_order *hl_workload_broken_order(const hl_workload_ops *w, const int64_t *values);
/* Index of variant `name`, or -1. */
int hl_workload_variant_index(const hl_workload_ops *w, const char *name);
/* Whether w runs under collector c: c has every flag of w->gc_needs. */
int hl_workload_supports(const hl_workload_ops *w, const hl_collector_ops *c);

#endif
