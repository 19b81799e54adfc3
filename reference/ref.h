/*
 * ref.h - what the plain C reference programs share: the proof of which
 * library serves malloc, and the clock they time their work with.  Header
 * only; each program is one file and links nothing of heaplab's.
 */
#ifndef HEAPLAB_REF_H
#define HEAPLAB_REF_H

#include <dlfcn.h>
#include <time.h>

/* The file of the library whose malloc this process calls: the proof that
 * a preloaded allocator really serves it (printed as "malloc_from PATH"). */
static inline const char *ref_malloc_owner(void)
{
    Dl_info info;
    void *sym = dlsym(RTLD_DEFAULT, "malloc");
    if (sym == NULL || dladdr(sym, &info) == 0 || info.dli_fname == NULL)
        return "unknown";
    return info.dli_fname;
}

/* Seconds on the monotonic clock. */
static inline double ref_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
