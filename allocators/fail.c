/*
 * fail.c - the fault injector: a decorator that makes allocations fail on
 * purpose, so that every workload and collector can be shown to stop
 * cleanly when memory runs out (--fail-alloc=N, --mem-limit=BYTES).
 *
 * Two rules, either or both:
 *   fail_nth   the Nth allocation (alloc or growing realloc, counted from 1)
 *              returns NULL, once;
 *   mem_limit  any allocation that would take the bytes live through this
 *              decorator (requested sizes, as the tracker counts them) past
 *              the limit returns NULL.
 * It keeps the sizes it has handed out (sized free makes that exact), so
 * the limit follows frees as well.  Like SQLite's test_malloc.c, fault
 * injection is a wrapper around any allocator, never code inside one.
 */
#include "allocators/decorator.h"

#include <errno.h>

typedef struct fail {
    hl_decorated base; /* first: the wrapped allocator */
    uint64_t fail_nth;  /* 0: off */
    uint64_t mem_limit; /* 0: off */
    uint64_t attempts;  /* allocations asked for so far */
    uint64_t live;      /* requested bytes live */
    uint64_t failed;    /* allocations refused */
} fail;

/* Whether the next allocation of `grow` more bytes is to fail. */
static int fail_refuse(fail *f, size_t grow)
{
    f->attempts++;
    if ((f->fail_nth != 0 && f->attempts == f->fail_nth) ||
        (f->mem_limit != 0 && f->live + grow > f->mem_limit)) {
        f->failed++;
        return 1;
    }
    return 0;
}

static void *fail_alloc(void *ctx, size_t size)
{
    fail *f = ctx;
    if (fail_refuse(f, size))
        return NULL;
    void *p = hl_pass_alloc(f, size);
    if (p != NULL)
        f->live += size;
    return p;
}

static void fail_free(void *ctx, void *p, size_t size)
{
    fail *f = ctx;
    if (p != NULL)
        f->live -= size;
    hl_pass_free(f, p, size);
}

static void *fail_realloc(void *ctx, void *p, size_t old_size, size_t new_size)
{
    fail *f = ctx;
    if (p == NULL)
        return fail_alloc(ctx, new_size);
    if (new_size > old_size && fail_refuse(f, new_size - old_size))
        return NULL;
    void *q = hl_pass_realloc(f, p, old_size, new_size);
    if (q != NULL)
        f->live = f->live - old_size + new_size;
    return q;
}

static void fail_stats(void *ctx, hl_stats *out)
{
    fail *f = ctx;
    hl_pass_stats(f, out);
    hl_stats_add(out, "injected_failures", "count", (double)f->failed);
}

static const hl_allocator_ops fail_ops = {
    .name = "fail",
    .description = "fault injector: fails the Nth allocation or those past a byte limit",
    .fini = hl_pass_fini,
    .alloc = fail_alloc,
    .free = fail_free,
    .realloc = fail_realloc,
    .stats = fail_stats,
};

int hl_fail_wrap(hl_allocator *out, const hl_allocator *inner, uint64_t fail_nth,
                 uint64_t mem_limit)
{
    fail *f = hl_decorator_new(sizeof(fail), &fail_ops, inner, out);
    if (f == NULL)
        return -ENOMEM;
    f->fail_nth = fail_nth;
    f->mem_limit = mem_limit;
    return 0;
}
