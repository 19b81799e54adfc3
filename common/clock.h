/*
 * clock.h - the one monotonic clock every layer reads.
 *
 * common/ is the bottom layer, below allocators: what any layer may
 * include without an arrow running back up (harness -> workloads ->
 * collectors -> allocators -> common).  It holds helpers with no strategy
 * in them.
 *
 * hl_now_ns is a real function, not an inline one, on purpose: a test can
 * replace it at link time (tests/test_pauses.c links with
 * -Wl,--wrap=hl_now_ns to script the collectors' pauses), which only works
 * for calls that reach the symbol through the linker.
 */
#ifndef HEAPLAB_CLOCK_H
#define HEAPLAB_CLOCK_H

#include <stdint.h>

/* Nanoseconds on CLOCK_MONOTONIC: never goes back, counts from an
 * arbitrary start, so only differences mean anything.  Cost: one vDSO
 * call, tens of nanoseconds. */
uint64_t hl_now_ns(void);

#endif
