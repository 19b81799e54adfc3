/*
 * cell.h - one cell of the matrix (a workload variant under one allocator
 * and one collector), run inside the current process.
 *
 * The matrix driver starts a fresh process per cell, with the right
 * allocator preloaded, and that process calls hl_cell_main.  A cell runs
 * two passes:
 *
 *   1. the memory pass: one untimed run through the tracking decorator, in
 *      a cold process, measuring rss_base, rss_peak, rss_end, live_peak,
 *      allocation counts, leaked bytes, the checksum and the allocator's own
 *      statistics;
 *   2. the timed passes: Google Benchmark runs the same workload, untracked,
 *      for each repetition, and every timed run's checksum must equal the
 *      memory pass's.
 *
 * A collector with its own heap (HL_GC_OWN_HEAP: Boehm's, one per process,
 * never re-initialised) must not run a pass on a heap another pass grew:
 * its memory pass runs in a forked child, and the matrix gives each of its
 * timed repetitions its own process (docs/design-notes.md).
 *
 * The rows (one per repetition, plus Google Benchmark's aggregates) are
 * written as JSON to --cell-out, whole or not at all.  Each row carries the
 * figures of its own run (times, collections, pauses, wl_* figures: the
 * timed run hands them to Google Benchmark as counters) and the memory
 * pass's, which only that pass can measure, with memory_pass_ops to say for
 * how much work (docs/metrics.md).
 */
#ifndef HEAPLAB_CELL_H
#define HEAPLAB_CELL_H

#include "harness/options.h"

/* The cell's name, "workload/variant/allocator/collector", with
 * "/threads:N" added for a workload that has a threads parameter (threads
 * > 0), so that cells of one thread sweep never share a name.  Every row of
 * the cell is named from it: Google Benchmark's run_name extends it, and a
 * failed or interrupted cell's row carries it as it is. */
void hl_cell_name(const hl_workload_ops *w, size_t variant, const hl_allocator_ops *a,
                  const hl_collector_ops *c, int64_t threads, char *buf, size_t len);

/* Run the cell o names.  Returns the exit status: 0, or 1 after printing one
 * line to stderr. */
int hl_cell_main(const hl_options *o);

#endif
