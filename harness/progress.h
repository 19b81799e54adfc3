/*
 * progress.h - the progress bar under the matrix's table: runs done of all,
 * and an estimate of the time left.  Drawn on a terminal only; a log or a
 * pipe gets the table's lines alone.
 */
#ifndef HEAPLAB_PROGRESS_H
#define HEAPLAB_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct hl_progress {
    int tty;       /* draw a bar on the terminal; else plain lines only */
    size_t done, total;
    uint64_t start_ns;
} hl_progress;

/* Erase the bar before a table line is printed. */
void hl_progress_clear(const hl_progress *pr);

/* Draw the bar (on a terminal, when there is work to show). */
void hl_progress_draw(const hl_progress *pr);

#endif
