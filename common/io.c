/*
 * io.c - whole transfers on a file descriptor (io.h).
 */
#include "common/io.h"

#include <errno.h>
#include <unistd.h>

/* Move len bytes between buf and fd, writing when `writing`, else
 * reading; the loop io.h's two calls share. */
static int io_transfer_all(int fd, char *buf, size_t len, int writing)
{
    while (len > 0) {
        ssize_t n = writing ? write(fd, buf, len) : read(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int hl_write_all(int fd, const void *buf, size_t len)
{
    return io_transfer_all(fd, (char *)buf, len, 1); /* only read from */
}

int hl_read_all(int fd, void *buf, size_t len)
{
    return io_transfer_all(fd, buf, len, 0);
}
