/*
 * proc.c - a child's environment and the tail of what it wrote (see proc.h).
 */
#include "harness/proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

char **hl_preload_environment(const char *preload, char *preload_var, size_t var_len)
{
    size_t n = 0;
    while (environ[n] != NULL)
        n++;
    char **env = calloc(n + 2, sizeof *env);
    if (env == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
            env[k++] = environ[i];
    if (preload != NULL) {
        snprintf(preload_var, var_len, "LD_PRELOAD=%s", preload);
        env[k++] = preload_var;
    }
    env[k] = NULL;
    return env;
}

void hl_read_tail(const char *path, char *buf, size_t max)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    long from = size > (long)max - 1 ? size - ((long)max - 1) : 0;
    fseek(f, from, SEEK_SET);
    size_t n = fread(buf, 1, max - 1, f);
    buf[n] = '\0';
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
}
