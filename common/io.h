/*
 * io.h - whole transfers on a file descriptor: the one copy of the loop that
 * retries interrupted and partial reads and writes (pipes, results files,
 * traces).  Below every layer, like clock.h.
 */
#ifndef HEAPLAB_IO_H
#define HEAPLAB_IO_H

#include <stddef.h>

/* Write all len bytes of buf to fd, as many write calls as it takes,
 * retrying EINTR.  Returns 0, or -1 with errno set (EIO for a write that
 * wrote nothing). */
int hl_write_all(int fd, const void *buf, size_t len);

/* Read exactly len bytes from fd into buf, as many read calls as it takes,
 * retrying EINTR.  Returns 0, or -1 with errno set (EIO at an early end of
 * file). */
int hl_read_all(int fd, void *buf, size_t len);

#endif
