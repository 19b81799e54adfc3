/*
 * fragadv.c - `--workload=fragadv`: a fragmentation adversary.
 *
 * What it models: a program that builds many small temporaries, keeps a few
 * of them scattered through memory (a parser's interned names, a cache's
 * survivors), and then needs bigger objects - a pattern in which live bytes
 * stay modest while an allocator that cannot move objects keeps growing,
 * because the holes between survivors are of the wrong size for what comes
 * next.  The measure is Johnstone and Wilson's ("The memory fragmentation
 * problem: solved?", ISMM 1998): the allocator's peak footprint against the
 * program's peak live bytes - the harness's rss_peak, live_peak and
 * fragmentation = (rss_peak - rss_base) / live_peak.  Robson's bounds say
 * every non-moving allocator has some such adversary; this one is generic,
 * not tuned to one allocator.
 *
 * Phase p = 0 .. phases-1 (single-threaded; all sizes fixed, so live bytes
 * are known exactly):
 *
 *   1 fill     allocate `count` small objects of s_p = small * (p + 1)
 *              bytes - each phase a size larger, so that a size-class
 *              allocator cannot serve it from the last phase's holes;
 *   2 scatter  in each group of `spacing` consecutive objects keep one, at
 *              a seeded random place, and free the rest: G = ceil(count /
 *              spacing) survivors stay live to the end of the run, holes
 *              of at most 2 * spacing - 2 objects between them;
 *   3 free the previous phase's large objects;
 *   4 large    allocate M_p = floor((count - G) * s_p / large) objects of
 *              `large` bytes - the bytes just freed, as objects too big for
 *              any hole: a hole is at most 2 * spacing - 2 blocks of s_p
 *              bytes and their headers, 14 x 144 = 2016 B for the defaults'
 *              largest phase (128 B objects, spacing 8), and large is 4096.
 *
 *     addresses:  |s . . . . . . s . . . . s . . . . . . . s|  LLLL LLLL LLLL
 *                  fill of phase p, after the scatter (s: survivor, .: hole)
 *
 * Live bytes: before phase p's fill, A_p = G * (s_0 + ... + s_(p-1)) +
 * M_(p-1) * large (the large objects of the phase before, p > 0); the peak
 * is max over p of A_p + count * s_p, reached at the end of a fill (the
 * `live_peak_design` figure computes it; the tracker must agree).  Every
 * survivor is freed only by finish.
 *
 * One op = one allocation (small or large) with its eventual free: ops =
 * phases * count + sum of M_p.  The scatter and the frees of step 3 run
 * inside the step that makes the phase's last small object.
 *
 * Each object is filled (so that the memory is really touched and RSS
 * tells the truth) with a byte pattern, and carries a cookie in its first
 * 8 bytes and another in its last 8, checked before the free.  The checksum
 * is an FNV-1a fold of the cookies read back, in free order - one order,
 * since the workload is single-threaded - identical under every allocator.
 *
 * Figures: phases, survivors, holes (small objects freed by the scatters),
 * live_peak_design, survivor_pages (distinct 4 KiB pages holding survivors
 * at the end, computed by finish) and survivor_pages_min (the pages the
 * survivors' bytes would fill if packed): their ratio is how thinly the
 * survivors pin memory that no other size can use.
 *
 * Parameters: phases, count (small objects per phase), small (s_0, bytes),
 * spacing, large (bytes).  No threads: the adversary is one thread.
 */
#include "workloads/rng.h"
#include "workloads/workload.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum { FA_PHASES, FA_COUNT, FA_SMALL, FA_SPACING, FA_LARGE };

static const hl_param_spec fa_params[] = {
    [FA_PHASES] = {"phases", "fill / scatter / large rounds", 8, 4, 1, 64},
    [FA_COUNT] = {"count", "small objects allocated per phase", 200000, 4000, 1, 100000000},
    [FA_SMALL] = {"small", "small object size of phase 0, bytes (phase p: small * (p + 1))", 16,
                  16, 16, 65536},
    [FA_SPACING] = {"spacing", "one small object in this many survives each phase", 8, 8, 1,
                    1000000},
    [FA_LARGE] = {"large", "large object size, bytes", 4096, 4096, 16, 1 << 30},
};

static const hl_variant_spec fa_variants[] = {
    {"default", "sizes grow each phase; survivors pin scattered memory"},
};

#define FA_TAIL_MAGIC 0xc3c3c3c3c3c3c3c3ull
#define FA_PAGE 4096u

typedef struct fa_obj {
    unsigned char *p;
    uint64_t id; /* the operation that allocated it: names its cookie */
} fa_obj;

enum { FA_FILL, FA_LARGE_STAGE };

typedef struct fragadv {
    const hl_allocator *alloc;
    uint64_t seed;
    uint32_t phases, count, spacing;
    uint64_t small, large;
    uint32_t groups;   /* survivors per phase: ceil(count / spacing) */
    uint64_t max_large; /* the largest M_p */

    fa_obj *fill;      /* this phase's small objects */
    fa_obj *survivors; /* every phase's, phases * groups */
    fa_obj *big[2];    /* large objects: [phase & 1] */
    uint64_t nbig[2];

    /* Where the run is. */
    uint32_t phase;
    int stage;
    uint64_t index;  /* within the stage */
    uint64_t next_id;

    uint64_t checksum;
    uint64_t holes;
    hl_rng rng;
} fragadv;

/* The phase's small size and its number of large objects. */
static uint64_t fa_small_size(const fragadv *f, uint32_t p)
{
    return f->small * (p + 1);
}

static uint64_t fa_nlarge(uint64_t count, uint64_t groups, uint64_t small_size, uint64_t large)
{
    return (count - groups) * small_size / large;
}

static uint64_t fa_ops(const hl_workload_config *cfg)
{
    const int64_t *p = cfg->params;
    uint64_t count = (uint64_t)p[FA_COUNT], spacing = (uint64_t)p[FA_SPACING];
    uint64_t groups = (count + spacing - 1) / spacing, ops = 0;
    for (int64_t ph = 0; ph < p[FA_PHASES]; ph++)
        ops += count + fa_nlarge(count, groups, (uint64_t)p[FA_SMALL] * (uint64_t)(ph + 1),
                                 (uint64_t)p[FA_LARGE]);
    return ops;
}

/* The design's live peak: max over phases of A_p + count * s_p. */
static uint64_t fa_live_peak_design(const fragadv *f)
{
    uint64_t survivors = 0, peak = 0, prev_large = 0;
    for (uint32_t p = 0; p < f->phases; p++) {
        uint64_t s = fa_small_size(f, p);
        uint64_t at_fill = survivors + prev_large + f->count * s;
        if (at_fill > peak)
            peak = at_fill;
        survivors += f->groups * s;
        prev_large = fa_nlarge(f->count, f->groups, s, f->large) * f->large;
    }
    return peak;
}

static inline uint64_t fa_cookie(const fragadv *f, uint64_t id)
{
    return hl_mix64(id ^ f->seed);
}

/* Allocate object `id` of `size` bytes into o: filled, with cookies. */
static int fa_make(fragadv *f, fa_obj *o, uint64_t size, hl_error *err)
{
    unsigned char *p = hl_alloc(f->alloc, size);
    if (p == NULL)
        return hl_fail(err, "out of memory: allocation of %" PRIu64 " bytes failed in phase %"
                       PRIu32, size, f->phase);
    uint64_t id = f->next_id++, cookie = fa_cookie(f, id);
    memset(p + 8, (int)(cookie >> 56), size - 16);
    memcpy(p, &cookie, 8);
    cookie ^= FA_TAIL_MAGIC;
    memcpy(p + size - 8, &cookie, 8);
    o->p = p;
    o->id = id;
    return 0;
}

/* Check o (of `size` bytes), fold its cookie, free it (a corrupted one too;
 * then -1 with err set). */
static int fa_drop(fragadv *f, fa_obj *o, uint64_t size, hl_error *err)
{
    uint64_t want = fa_cookie(f, o->id), head, tail;
    memcpy(&head, o->p, 8);
    memcpy(&tail, o->p + size - 8, 8);
    int rc = 0;
    if (head != want || tail != (want ^ FA_TAIL_MAGIC))
        rc = hl_fail(err, "corrupted block %p (%" PRIu64 " bytes): cookies %016" PRIx64 "/%016"
                     PRIx64 ", expected %016" PRIx64, (void *)o->p, size, head, tail, want);
    f->checksum = (f->checksum ^ head) * 0x100000001b3ull;
    hl_free(f->alloc, o->p, size);
    o->p = NULL;
    return rc;
}

/* Step 2 and 3 of phase p: keep one object per group, free the rest, then
 * free the previous phase's large objects. */
static int fa_scatter(fragadv *f, hl_error *err)
{
    uint32_t p = f->phase;
    uint64_t s = fa_small_size(f, p);
    int rc = 0;
    for (uint32_t g = 0; g < f->groups; g++) {
        uint32_t lo = g * f->spacing;
        uint32_t n = f->count - lo < f->spacing ? f->count - lo : f->spacing;
        uint32_t keep = lo + hl_rng_below((uint32_t)(hl_rng_next(&f->rng) >> 32), n);
        f->survivors[(size_t)p * f->groups + g] = f->fill[keep];
        f->fill[keep].p = NULL;
        for (uint32_t k = lo; k < lo + n; k++)
            if (f->fill[k].p != NULL) {
                if (fa_drop(f, &f->fill[k], s, err) != 0)
                    rc = -1;
                f->holes++;
            }
    }
    if (p > 0) {
        fa_obj *old = f->big[(p - 1) & 1];
        for (uint64_t k = 0; k < f->nbig[(p - 1) & 1]; k++)
            if (fa_drop(f, &old[k], f->large, err) != 0)
                rc = -1;
        f->nbig[(p - 1) & 1] = 0;
    }
    return rc;
}

static int fa_setup(const hl_workload_config *cfg, void **state, hl_error *err)
{
    const int64_t *p = cfg->params;
    fragadv *f = calloc(1, sizeof *f);
    if (f == NULL)
        return hl_fail(err, "out of memory for the fragadv state");
    f->alloc = cfg->alloc;
    f->seed = cfg->seed;
    f->phases = (uint32_t)p[FA_PHASES];
    f->count = (uint32_t)p[FA_COUNT];
    f->spacing = (uint32_t)p[FA_SPACING];
    f->small = (uint64_t)p[FA_SMALL];
    f->large = (uint64_t)p[FA_LARGE];
    f->groups = (uint32_t)((f->count + f->spacing - 1) / f->spacing);
    for (uint32_t ph = 0; ph < f->phases; ph++) {
        uint64_t m = fa_nlarge(f->count, f->groups, fa_small_size(f, ph), f->large);
        if (m > f->max_large)
            f->max_large = m;
    }
    hl_rng_seed(&f->rng, cfg->seed);
    *state = f; /* from here on, finish() releases everything */
    f->fill = hl_untracked_alloc(sizeof(fa_obj) * f->count);
    f->survivors = hl_untracked_alloc(sizeof(fa_obj) * f->groups * f->phases);
    f->big[0] = hl_untracked_alloc(sizeof(fa_obj) * (f->max_large + 1));
    f->big[1] = hl_untracked_alloc(sizeof(fa_obj) * (f->max_large + 1));
    if (f->fill == NULL || f->survivors == NULL || f->big[0] == NULL || f->big[1] == NULL)
        return hl_fail(err, "out of memory for fragadv's tables");
    return 0;
}

/* Perform the next n allocations, moving through the phases' stages. */
static int fa_step(void *state, uint64_t n, hl_error *err)
{
    fragadv *f = state;
    while (n > 0) {
        if (f->phase >= f->phases)
            return hl_fail(err, "fragadv: asked for more operations than its %" PRIu32
                           " phases hold", f->phases);
        if (f->stage == FA_FILL) {
            if (fa_make(f, &f->fill[f->index], fa_small_size(f, f->phase), err) != 0)
                return -1;
            n--;
            if (++f->index == f->count) {
                if (fa_scatter(f, err) != 0)
                    return -1;
                f->stage = FA_LARGE_STAGE;
                f->index = 0;
            }
        } else {
            uint64_t m = fa_nlarge(f->count, f->groups, fa_small_size(f, f->phase), f->large);
            if (f->index < m) {
                if (fa_make(f, &f->big[f->phase & 1][f->index], f->large, err) != 0)
                    return -1;
                f->nbig[f->phase & 1] = ++f->index;
                n--;
            }
            if (f->index == m) {
                f->phase++;
                f->stage = FA_FILL;
                f->index = 0;
            }
        }
    }
    return 0;
}

static int fa_cmp_uintptr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

/* Distinct pages holding the survivors' bytes now (sorted in place). */
static uint64_t fa_survivor_pages(fragadv *f, uint64_t *bytes)
{
    size_t n = (size_t)f->groups * f->phases, used = 0;
    uintptr_t *pages = hl_untracked_alloc(sizeof(uintptr_t) * (2 * n + 1));
    *bytes = 0;
    if (pages == NULL)
        return 0;
    for (size_t k = 0; k < n; k++) {
        if (f->survivors[k].p == NULL)
            continue;
        uint64_t size = fa_small_size(f, (uint32_t)(k / f->groups));
        uintptr_t a = (uintptr_t)f->survivors[k].p;
        pages[used++] = a / FA_PAGE;
        if ((a + size - 1) / FA_PAGE != a / FA_PAGE)
            pages[used++] = (a + size - 1) / FA_PAGE;
        *bytes += size;
    }
    qsort(pages, used, sizeof pages[0], fa_cmp_uintptr);
    uint64_t distinct = 0;
    for (size_t k = 0; k < used; k++)
        distinct += k == 0 || pages[k] != pages[k - 1];
    hl_untracked_free(pages, sizeof(uintptr_t) * (2 * n + 1));
    return distinct;
}

/* Unmap the fill and large-object tables (safe twice, and on a setup that
 * failed half way). */
static void fa_free_tables(fragadv *f)
{
    hl_untracked_free(f->fill, sizeof(fa_obj) * f->count);
    f->fill = NULL;
    for (int b = 0; b < 2; b++) {
        hl_untracked_free(f->big[b], sizeof(fa_obj) * (f->max_large + 1));
        f->big[b] = NULL;
    }
}

static int fa_finish(void *state, hl_workload_result *res, hl_error *err)
{
    fragadv *f = state;
    int rc = 0;
    uint64_t pages = 0, bytes = 0;
    if (f->fill != NULL && f->survivors != NULL && f->big[0] != NULL && f->big[1] != NULL) {
        /* A run cut short leaves a partial fill, and large objects. */
        for (uint32_t k = 0; k < f->count; k++)
            if (f->fill[k].p != NULL && fa_drop(f, &f->fill[k],
                                                fa_small_size(f, f->phase), err) != 0)
                rc = -1;
        for (int b = 0; b < 2; b++)
            for (uint64_t k = 0; k < f->nbig[b]; k++)
                if (f->big[b][k].p != NULL && fa_drop(f, &f->big[b][k], f->large, err) != 0)
                    rc = -1;
        /* The page count's scratch only now, the large objects dropped and
         * the tables no longer needed gone: taken first, it raised the
         * drain's peak ~3 MiB above the run's, and rss_peak with it (the
         * pool's 147.1 MiB on the defaults was this workload's scratch on
         * top of the allocator's 144.1). */
        fa_free_tables(f);
        pages = fa_survivor_pages(f, &bytes);
        for (size_t k = 0; k < (size_t)f->groups * f->phases; k++)
            if (f->survivors[k].p != NULL &&
                fa_drop(f, &f->survivors[k], fa_small_size(f, (uint32_t)(k / f->groups)),
                        err) != 0)
                rc = -1;
    }
    res->ops = f->next_id;
    res->checksum = f->checksum;
    hl_stats_add(&res->figures, "phases", "phases", (double)f->phases);
    hl_stats_add(&res->figures, "survivors", "objects", (double)f->groups * f->phases);
    hl_stats_add(&res->figures, "holes", "objects", (double)f->holes);
    hl_stats_add(&res->figures, "survivor_pages", "pages", (double)pages);
    hl_stats_add(&res->figures, "survivor_pages_min", "pages",
                 (double)((bytes + FA_PAGE - 1) / FA_PAGE));
    hl_stats_add(&res->figures, "live_peak_design", "bytes", (double)fa_live_peak_design(f));
    fa_free_tables(f);
    if (f->survivors != NULL)
        hl_untracked_free(f->survivors, sizeof(fa_obj) * f->groups * f->phases);
    free(f);
    return rc;
}

static const hl_workload_ops fa_ops_table = {
    .name = "fragadv",
    .description = "fragmentation adversary: scattered survivors of small fills pin memory that "
                   "the next, larger objects cannot reuse",
    .default_collector = "manual",
    .gc_needs = HL_GC_MANUAL, /* raw bytes: manual only */
    .params = fa_params,
    .nparams = sizeof fa_params / sizeof fa_params[0],
    .variants = fa_variants,
    .nvariants = sizeof fa_variants / sizeof fa_variants[0],
    .ops = fa_ops,
    .setup = fa_setup,
    .step = fa_step,
    .finish = fa_finish,
};

const hl_workload_ops *hl_fragadv_workload(void)
{
    return &fa_ops_table;
}
