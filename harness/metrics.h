/*
 * metrics.h - what the harness reads from the operating system: resident
 * set size now and at its peak, and the environment a result was measured
 * in.  Every reader returns -1 (or NULL) when this machine cannot tell, so
 * the caller can report the figure as absent rather than zero.
 */
#ifndef HEAPLAB_METRICS_H
#define HEAPLAB_METRICS_H

#include <stddef.h>

/* Resident set size now, in bytes (/proc/self/statm), or -1. */
long long hl_rss_now(void);
/* Peak resident set size since start or the last reset (VmHWM), or -1. */
long long hl_rss_peak(void);
/* Reset the peak to the current RSS (/proc/self/clear_refs = 5).  Returns 0,
 * or -1 when the kernel does not allow it. */
int hl_rss_reset_peak(void);

/* The first line of `path`, trimmed, into buf; NULL when unreadable. */
const char *hl_read_line(const char *path, char *buf, size_t len);
/* The transparent-huge-page mode ("always", "madvise", "never"), or NULL. */
const char *hl_thp_mode(char *buf, size_t len);
/* The CPU model name from /proc/cpuinfo, or NULL. */
const char *hl_cpu_model(char *buf, size_t len);

#endif
