/*
 * pinning.h - instruction pinning: make Callgrind's instruction counts carry
 * from one x86-64 CPU model to another (see pinning.c and
 * docs/regression.md).
 */
#ifndef HEAPLAB_PINNING_H
#define HEAPLAB_PINNING_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* The pinning scheme's name and version.  Change the version whenever the
 * tunables change: counts taken under different pinnings do not compare. */
#define HL_PINNING_SCHEME "glibc-x86-64-sse2-v1"

/* A copy of env (NULL-terminated, not itself freed) with GLIBC_TUNABLES set
 * to the pinning, followed by any tunables env already held.  The new
 * variable is written into var[var_len].  Returns a calloc'd array the
 * caller frees (the strings stay env's), or NULL when out of memory or
 * var is too small. */
char **hl_pinning_environment(char *const *env, char *var, size_t var_len);

/* In the counted process: {"scheme", "glibc_tunables"} when the pinning is
 * in force (GLIBC_TUNABLES starts with it AND glibc reports every masked
 * feature inactive), otherwise NULL: a count not pinned says so by the
 * record's absence. */
cJSON *hl_pinning_record(void);

#endif
