/*
 * proc.h - helpers for starting another process and reading what it left:
 * its environment with or without an LD_PRELOAD, and the tail of a file it
 * wrote (its stderr).  Shared by the matrix's cells (child.c) and by
 * -- PROGRAM (program.c).
 */
#ifndef HEAPLAB_PROC_H
#define HEAPLAB_PROC_H

#include <stddef.h>

/* The value of NAME in env (NULL-terminated "NAME=value" strings), or
 * NULL. */
const char *hl_environment_get(char *const *env, const char *name);

/* A copy of env without NAME, plus NAME=value (written into var[var_len])
 * when value is not NULL.  The array borrows env's strings; free it.  NULL
 * when memory is exhausted or var is too small. */
char **hl_environment_with(char *const *env, const char *name, const char *value, char *var,
                           size_t var_len);

/* The environment for a child process: ours without LD_PRELOAD, plus
 * LD_PRELOAD=preload (written into preload_var) when preload is not NULL.
 * The array borrows our strings; free it.  NULL when memory is exhausted. */
char **hl_preload_environment(const char *preload, char *preload_var, size_t var_len);

/* The last max - 1 bytes of the file at path, trailing blanks trimmed; an
 * empty string when it cannot be read. */
void hl_read_tail(const char *path, char *buf, size_t max);

#endif
