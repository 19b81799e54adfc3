/*
 * system.c - shared code of the system allocators.
 *
 * A system allocator is whatever `malloc` this process resolved: the C
 * library's, or one brought in by LD_PRELOAD.  The methods are plain malloc,
 * free and realloc (unsized: that is how C programs call them), and the
 * probe proves from the dynamic linker which shared object really serves
 * malloc, so a cell can never silently measure glibc while naming jemalloc.
 */
#include "allocators/system.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int hl_system_init(void **ctx)
{
    *ctx = NULL;
    return 0;
}

void hl_system_fini(void *ctx)
{
    (void)ctx;
}

void *hl_system_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size);
}

void hl_system_free(void *ctx, void *p, size_t size)
{
    (void)ctx;
    (void)size;
    free(p);
}

void *hl_system_realloc(void *ctx, void *p, size_t old_size, size_t new_size)
{
    (void)ctx;
    (void)old_size;
    /* realloc(p, 0) frees in glibc; keep the "unique block" contract. */
    return realloc(p, new_size ? new_size : 1);
}

const char *hl_system_missing(const char *path, const char *package)
{
    static char reason[256];
    if (path == NULL || access(path, R_OK) == 0)
        return NULL;
    snprintf(reason, sizeof reason, "%s not found (Debian package %s)", path, package);
    return reason;
}

void *hl_system_symbol(const char *name)
{
    return dlsym(RTLD_DEFAULT, name);
}

int hl_system_malloc_owner(char *path, size_t path_len)
{
    void *sym = dlsym(RTLD_DEFAULT, "malloc");
    Dl_info info;
    if (sym == NULL || dladdr(sym, &info) == 0 || info.dli_fname == NULL)
        return -1;
    snprintf(path, path_len, "%s", info.dli_fname);
    return 0;
}

int hl_system_expect_owner(const char *needle, const char *allocator, char *why, size_t why_len)
{
    char owner[512];
    if (hl_system_malloc_owner(owner, sizeof owner) != 0) {
        snprintf(why, why_len, "cannot tell which library serves malloc (dladdr failed)");
        return -1;
    }
    if (strstr(owner, needle) == NULL) {
        snprintf(why, why_len, "allocator %s requested, but malloc is served by %s", allocator,
                 owner);
        return -1;
    }
    return 0;
}
