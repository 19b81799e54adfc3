/*
 * leak.c - a test-only decorator that leaks: it drops every LEAK_EVERY-th
 * free on the floor.
 *
 * It exists to prove that the regression check catches a leak.  Placed
 * outside the tracker, the swallowed blocks stay live in the tracker's view,
 * so leaked_bytes, live bytes and the free count all move.  Selected with
 * --decorate=leak; never part of a real measurement.
 */
#include "allocators/decorator.h"

#include <errno.h>

#define LEAK_EVERY 100

typedef struct leak {
    hl_decorated base; /* first: the wrapped allocator */
    uint64_t frees;
} leak;

static void leak_free(void *ctx, void *p, size_t size)
{
    leak *l = ctx;
    if (p != NULL && ++l->frees % LEAK_EVERY == 0)
        return; /* the leak */
    hl_pass_free(l, p, size);
}

static const hl_allocator_ops leak_ops = {
    .name = "leak",
    .description = "test decorator: drops every 100th free",
    .fini = hl_pass_fini,
    .alloc = hl_pass_alloc,
    .free = leak_free,
    .realloc = hl_pass_realloc,
    .stats = hl_pass_stats,
};

int hl_leak_wrap(hl_allocator *out, const hl_allocator *inner)
{
    return hl_decorator_new(sizeof(leak), &leak_ops, inner, out) ? 0 : -ENOMEM;
}
