/*
 * leak.c - a test-only decorator that leaks: it drops every LEAK_EVERY-th
 * free on the floor.
 *
 * It exists to prove that the regression check catches a leak.  Placed
 * outside the tracker, the swallowed blocks stay live in the tracker's view,
 * so leaked_bytes, live bytes and the free count all move.  Selected with
 * --decorate=leak; never part of a real measurement.
 */
#include "allocators/allocator.h"

#include <errno.h>
#include <stdlib.h>

#define LEAK_EVERY 100

typedef struct leak {
    hl_allocator inner;
    uint64_t frees;
} leak;

static void *leak_alloc(void *ctx, size_t size)
{
    leak *l = ctx;
    return hl_alloc(&l->inner, size);
}

static void leak_free(void *ctx, void *p, size_t size)
{
    leak *l = ctx;
    if (p != NULL && ++l->frees % LEAK_EVERY == 0)
        return; /* the leak */
    hl_free(&l->inner, p, size);
}

static void *leak_realloc(void *ctx, void *p, size_t old_size, size_t new_size)
{
    leak *l = ctx;
    return hl_realloc(&l->inner, p, old_size, new_size);
}

static void leak_stats(void *ctx, hl_stats *out)
{
    leak *l = ctx;
    if (l->inner.ops->stats != NULL)
        l->inner.ops->stats(l->inner.ctx, out);
}

static void leak_fini(void *ctx)
{
    free(ctx);
}

static const hl_allocator_ops leak_ops = {
    .name = "leak",
    .description = "test decorator: drops every 100th free",
    .fini = leak_fini,
    .alloc = leak_alloc,
    .free = leak_free,
    .realloc = leak_realloc,
    .stats = leak_stats,
};

int hl_leak_wrap(hl_allocator *out, const hl_allocator *inner)
{
    leak *l = calloc(1, sizeof *l);
    if (l == NULL)
        return -ENOMEM;
    l->inner = *inner;
    out->ops = &leak_ops;
    out->ctx = l;
    return 0;
}
