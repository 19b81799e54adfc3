/*
 * system.h - what the four system allocators (glibc, jemalloc, mimalloc,
 * tcmalloc) share: the malloc-backed methods and the identity probe.  Private
 * to allocators/; each system allocator file fills its own method table with
 * these and adds its probe and statistics.
 */
#ifndef HEAPLAB_ALLOCATORS_SYSTEM_H
#define HEAPLAB_ALLOCATORS_SYSTEM_H

#include "allocators/allocator.h"

/* The multiarch library directory, set by the build (e.g.
 * /usr/lib/x86_64-linux-gnu), where Debian installs the allocators. */
#ifndef HL_LIBDIR
#define HL_LIBDIR "/usr/lib/x86_64-linux-gnu"
#endif

/* The process's own malloc, free and realloc behind the method table. */
int hl_system_init(void **ctx);
void hl_system_fini(void *ctx);
void *hl_system_alloc(void *ctx, size_t size);
void hl_system_free(void *ctx, void *p, size_t size);
void *hl_system_realloc(void *ctx, void *p, size_t old_size, size_t new_size);

/* NULL when `path` is readable, else a reason naming `package`. */
const char *hl_system_missing(const char *path, const char *package);

/* The file of the shared object that serves `malloc` in this process, by
 * dlsym(RTLD_DEFAULT) and dladdr.  Returns 0, or -1 when it cannot tell. */
int hl_system_malloc_owner(char *path, size_t path_len);

/* Check that malloc is served by a library whose file name contains
 * `needle`.  Returns 0, or -1 with a reason in `why`. */
int hl_system_expect_owner(const char *needle, const char *allocator, char *why, size_t why_len);

/* dlsym(RTLD_DEFAULT, name) as a function pointer of any type. */
void *hl_system_symbol(const char *name);

#endif
