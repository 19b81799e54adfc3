/*
 * decorator.c - the pass-through methods and constructor decorators share
 * (see decorator.h).
 */
#include "allocators/decorator.h"

#include <stdlib.h>

void *hl_pass_alloc(void *ctx, size_t size)
{
    return hl_alloc(&((hl_decorated *)ctx)->inner, size);
}

void hl_pass_free(void *ctx, void *p, size_t size)
{
    hl_free(&((hl_decorated *)ctx)->inner, p, size);
}

void *hl_pass_realloc(void *ctx, void *p, size_t old_size, size_t new_size)
{
    return hl_realloc(&((hl_decorated *)ctx)->inner, p, old_size, new_size);
}

void hl_pass_stats(void *ctx, hl_stats *out)
{
    const hl_allocator *inner = &((hl_decorated *)ctx)->inner;
    if (inner->ops->stats != NULL)
        inner->ops->stats(inner->ctx, out);
}

void hl_pass_fini(void *ctx)
{
    free(ctx);
}

void *hl_decorator_new(size_t ctx_size, const hl_allocator_ops *ops, const hl_allocator *inner,
                       hl_allocator *out)
{
    hl_decorated *d = calloc(1, ctx_size);
    if (d == NULL)
        return NULL;
    d->inner = *inner;
    out->ops = ops;
    out->ctx = d;
    return d;
}
