/*
 * object.c - what every collector shares of the object model: opening and
 * closing collector instances (traversal is inline in collector.h).
 */
#include "collectors/collector.h"

#include <string.h>

hl_gc_config hl_gc_default_config(void)
{
    hl_gc_config cfg = {.threshold = {700, 10, 10}, .long_lived_rule = 1};
    return cfg;
}

int hl_gc_open(hl_gc *gc, const hl_collector_ops *ops, const hl_allocator *alloc,
               const hl_gc_config *cfg)
{
    hl_gc_config defaults = hl_gc_default_config();
    gc->ops = ops;
    gc->ctx = NULL;
    gc->fast = NULL;
    int rc = ops->init(&gc->ctx, alloc, cfg ? cfg : &defaults);
    if (rc != 0)
        gc->ops = NULL;
    else if (ops->fast != NULL)
        gc->fast = ops->fast(gc->ctx);
    return rc;
}

void hl_gc_close(hl_gc *gc)
{
    if (gc->ops != NULL)
        gc->ops->fini(gc->ctx);
    memset(gc, 0, sizeof *gc);
}
