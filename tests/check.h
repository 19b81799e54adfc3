/*
 * check.h - the assertion macro of heaplab's C tests.  A failed check prints
 * where and what, and the test goes on so one run shows every failure;
 * main() returns check_status().
 */
#ifndef HEAPLAB_TEST_CHECK_H
#define HEAPLAB_TEST_CHECK_H

#include <stdio.h>

static int check_failures;

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            check_failures++;                                                                  \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);           \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fputc('\n', stderr);                                                               \
        }                                                                                      \
    } while (0)

static inline int check_status(const char *what)
{
    if (check_failures)
        fprintf(stderr, "%s: %d check(s) failed\n", what, check_failures);
    else
        printf("%s: all checks passed\n", what);
    return check_failures ? 1 : 0;
}

#endif
