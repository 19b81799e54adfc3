/*
 * each_allocator.h - the allocators a test runs: every registered one, taken
 * from the registry (allocators/registry.c), never from a list in the test.
 *
 * A system allocator that replaces malloc by LD_PRELOAD cannot share a
 * process with another, so a test cannot run it in-process.  The test
 * re-executes itself for it instead, as the matrix runs each cell:
 *
 *   test_x            runs here every registered allocator that needs no
 *                     preload (pool, arena, glibc), then, from
 *                     each_allocator_finish, one child per allocator that
 *                     does: this program again with the allocator's name as
 *                     its argument and the library in LD_PRELOAD;
 *   test_x NAME       runs NAME only (re-executing itself under NAME's
 *                     preload first when it is not in effect), after
 *                     proving with the allocator's identify() that this
 *                     process really has it: a test never silently runs
 *                     glibc under another allocator's name.
 *
 * ctest stays one test per program, and each child's own checks print
 * under its allocator's name.  Skipped, with the reason printed: an
 * allocator whose unavailable() gives one, and under a sanitizer (the build
 * defines HL_TEST_SANITIZED) every preloaded allocator, since the
 * sanitizer owns malloc and a preloaded one cannot replace it.  Tests that
 * need the allocator proven even in-process (conformance: EACH_PROVEN) also
 * skip glibc there.  Header-only: each test is one translation unit.
 */
#ifndef HEAPLAB_TEST_EACH_ALLOCATOR_H
#define HEAPLAB_TEST_EACH_ALLOCATOR_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "allocators/allocator.h"

#ifndef HL_TEST_SANITIZED
#define HL_TEST_SANITIZED 0
#endif

enum {
    EACH_MAX = 32,
    EACH_PROVEN = 1u << 0, /* every allocator run must pass identify(), glibc included */
};

/* What this process runs: each_allocators[0..each_allocator_count), by name
 * (the form the tests pass to hl_allocator_find and print). */
static const char *each_allocators[EACH_MAX];
static size_t each_allocator_count;
/* Allocators that each_allocator_finish runs in children, each under its preload. */
static const hl_allocator_ops *each_children[EACH_MAX];
static size_t each_nchildren;
static const char *each_test_name;
/* 1 when this process runs one allocator named on its command line (a
 * child): a test may then leave out its checks that do not depend on the
 * allocators swept, which its parent ran already. */
static int each_allocator_only;

/* Why `a` cannot run in this build or on this machine, or NULL. */
static inline const char *each_skip_reason(const hl_allocator_ops *a, unsigned flags)
{
    const char *why = a->unavailable ? a->unavailable() : NULL;
    if (why != NULL)
        return why;
    if (HL_TEST_SANITIZED && (a->preload != NULL ||
                              ((flags & EACH_PROVEN) && (a->flags & HL_ALLOC_SYSTEM))))
        return "the sanitizer owns malloc";
    return NULL;
}

/* Whether a's library is preloaded into this process already. */
static inline int each_preloaded(const hl_allocator_ops *a)
{
    const char *env = getenv("LD_PRELOAD");
    return a->preload == NULL || (env != NULL && strstr(env, a->preload) != NULL);
}

/* Replace this process with this program run for allocator a alone, a's
 * library preloaded.  Returns only on failure (-1). */
static inline int each_exec_self(const hl_allocator_ops *a)
{
    static char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    if (setenv("LD_PRELOAD", a->preload, 1) != 0)
        return -1;
    char *args[] = {self, (char *)a->name, NULL};
    execv(self, args);
    return -1;
}

/* Call first in main(argc, argv) of a test named `test`.  Fills
 * each_allocators with what this process runs (see the top of this file).
 * Returns 0, or 2 after printing one line when argv names no registered
 * allocator, or names one that cannot run here or cannot be proven. */
static inline int each_allocator_init(int argc, char **argv, const char *test, unsigned flags)
{
    each_test_name = test;
    if (argc > 1) {
        const hl_allocator_ops *a = hl_allocator_find(argv[1]);
        if (a == NULL) {
            fprintf(stderr, "%s: unknown allocator %s (see heaplab --list)\n", test, argv[1]);
            return 2;
        }
        const char *why = each_skip_reason(a, flags);
        if (why != NULL) {
            fprintf(stderr, "%s: allocator %s cannot run here: %s\n", test, a->name, why);
            return 2;
        }
        if (!each_preloaded(a) && each_exec_self(a) != 0) {
            fprintf(stderr, "%s: could not re-execute under %s's preload\n", test, a->name);
            return 2;
        }
        char version[256] = "", reason[256] = "";
        if ((a->preload != NULL || (flags & EACH_PROVEN)) && a->identify != NULL &&
            a->identify(version, sizeof version, reason, sizeof reason) != 0) {
            fprintf(stderr, "%s: this process does not have allocator %s: %s\n", test, a->name,
                    reason);
            return 2;
        }
        each_allocators[each_allocator_count++] = a->name;
        each_allocator_only = 1;
        return 0;
    }
    for (size_t i = 0; i < hl_allocator_count() && i < EACH_MAX; i++) {
        const hl_allocator_ops *a = hl_allocator_at(i);
        const char *why = each_skip_reason(a, flags);
        if (why != NULL)
            printf("%s: allocator %s skipped: %s\n", test, a->name, why);
        else if (a->preload != NULL)
            each_children[each_nchildren++] = a;
        else
            each_allocators[each_allocator_count++] = a->name;
    }
    return 0;
}

/* Call last, with the status of this process's own checks: runs each
 * allocator that needs a preload in its own child (this program again,
 * under that preload) and returns main's exit status, 0 only when this
 * process and every child passed.  Cost: one process start and one full
 * run of the test per preloaded allocator. */
static inline int each_allocator_finish(int status)
{
    for (size_t i = 0; i < each_nchildren; i++) {
        const hl_allocator_ops *a = each_children[i];
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            each_exec_self(a);
            _exit(127);
        }
        int ws = 0;
        if (pid < 0 || waitpid(pid, &ws, 0) != pid || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
            fprintf(stderr, "%s: FAILED under %s (LD_PRELOAD=%s): %s %d\n", each_test_name,
                    a->name, a->preload, pid < 0 ? "fork failed" : WIFSIGNALED(ws) ? "signal" : "exit",
                    pid < 0 ? 0 : WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws));
            status = 1;
        } else {
            printf("%s: passed under %s\n", each_test_name, a->name);
        }
    }
    return status;
}

#endif
