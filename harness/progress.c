/*
 * progress.c - the matrix's progress bar (see progress.h).  Time comes from
 * the one monotonic clock, hl_now_ns (common/clock.h).
 */
#include "harness/progress.h"

#include <stdio.h>

#include "common/clock.h"

void hl_progress_clear(const hl_progress *pr)
{
    if (pr->tty && pr->done > 0)
        fputs("\r\033[K", stdout);
}

/* Draw "[#####.....] 12/40 runs, 1:20 left" under the table. */
void hl_progress_draw(const hl_progress *pr)
{
    if (!pr->tty || pr->total == 0)
        return;
    enum { WIDTH = 30 };
    size_t filled = pr->done * WIDTH / pr->total;
    double elapsed = (double)(hl_now_ns() - pr->start_ns) / 1e9;
    double left = pr->done ? elapsed / (double)pr->done * (double)(pr->total - pr->done) : 0;
    char bar[WIDTH + 1];
    for (size_t i = 0; i < WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[WIDTH] = '\0';
    printf("[%s] %zu/%zu runs, %d:%02d left", bar, pr->done, pr->total, (int)left / 60,
           (int)left % 60);
    fflush(stdout);
}
