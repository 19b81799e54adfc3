/*
 * decorator.h - what heaplab's allocator decorators share (tracker, slow,
 * leak, fail, corrupt).  Private to allocators/.
 *
 * A decorator's context begins with the allocator it wraps, so the methods a
 * decorator does not change can pass straight through, and creating one is
 * a single call.
 */
#ifndef HEAPLAB_DECORATOR_H
#define HEAPLAB_DECORATOR_H

#include "allocators/allocator.h"

/* The head of every decorator's context. */
typedef struct hl_decorated {
    hl_allocator inner;
} hl_decorated;

/* Methods that hand the call to the wrapped allocator unchanged. */
void *hl_pass_alloc(void *ctx, size_t size);
void hl_pass_free(void *ctx, void *p, size_t size);
void *hl_pass_realloc(void *ctx, void *p, size_t old_size, size_t new_size);
void hl_pass_stats(void *ctx, hl_stats *out);
/* Frees the decorator's context (not the wrapped allocator). */
void hl_pass_fini(void *ctx);

/* A zeroed context of ctx_size bytes (at least sizeof(hl_decorated)) around
 * `inner`, installed in *out with `ops`.  Returns the context, or NULL when
 * memory is exhausted.  Decorators' few bytes come from the C library,
 * outside whatever they wrap. */
void *hl_decorator_new(size_t ctx_size, const hl_allocator_ops *ops, const hl_allocator *inner,
                       hl_allocator *out);

#endif
