/*
 * proc.c - a child's environment and the tail of what it wrote (see proc.h).
 */
#include "harness/proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

const char *hl_environment_get(char *const *env, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; env[i] != NULL; i++)
        if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
            return env[i] + len + 1;
    return NULL;
}

char **hl_environment_with(char *const *env, const char *name, const char *value, char *var,
                           size_t var_len)
{
    size_t n = 0, len = strlen(name);
    while (env[n] != NULL)
        n++;
    char **out = calloc(n + 2, sizeof *out);
    if (out == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(env[i], name, len) != 0 || env[i][len] != '=')
            out[k++] = env[i];
    if (value != NULL) {
        int w = snprintf(var, var_len, "%s=%s", name, value);
        if (w < 0 || (size_t)w >= var_len) {
            free(out);
            return NULL;
        }
        out[k++] = var;
    }
    out[k] = NULL;
    return out;
}

char **hl_preload_environment(const char *preload, char *preload_var, size_t var_len)
{
    return hl_environment_with(environ, "LD_PRELOAD", preload, preload_var, var_len);
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
