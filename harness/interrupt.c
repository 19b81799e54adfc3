/*
 * interrupt.c - a stopped matrix keeps what it finished.
 *
 * A matrix can run for hours, and people stop it: Ctrl-C (SIGINT), `timeout`
 * or a CI job's cancel (SIGTERM), a closed terminal (SIGHUP).  Dying of the
 * signal would throw away every finished cell and leave the running cell's
 * scratch files behind.  Instead:
 *
 *   catch    the handler only records the signal and passes it on (kill(2)
 *            is async-signal-safe) to the cell process that is running, so
 *            that the cell in progress ends at once, as it would have if
 *            bench had died;
 *   reap     the driver waits for that process without reaping it first
 *            (waitid with WNOWAIT), forgets its pid, then reaps it: the
 *            handler can never signal a pid the kernel has handed to a
 *            stranger;
 *   finish   the driver starts no further cell, writes the finished cells
 *            (results.c writes each file whole or not at all) and dies of
 *            the signal, so that the shell sees 128 + signo and a shell loop
 *            around bench stops, as it would for any other program.
 *
 * Signals ignored when bench starts stay ignored (nohup's SIGHUP, SIGINT in
 * a background job of a non-interactive shell): the user asked for that.
 * SA_RESTART keeps stdio and the results write free of EINTR.
 */
#include "harness/interrupt.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

_Static_assert(sizeof(pid_t) <= sizeof(sig_atomic_t), "a pid must fit a sig_atomic_t");

static const int stoppers[] = {SIGINT, SIGTERM, SIGHUP};

static volatile sig_atomic_t stop_signal;   /* the first stopping signal, or 0 */
static volatile sig_atomic_t running_child; /* the cell process not yet waited for, or 0 */

/* Only async-signal-safe work: note the signal, pass it on. */
static void on_stop(int sig)
{
    int saved = errno;
    if (stop_signal == 0)
        stop_signal = sig;
    pid_t child = (pid_t)running_child;
    if (child > 0)
        kill(child, sig);
    errno = saved;
}

void hl_stop_signals(sigset_t *set)
{
    for (size_t i = 0; i < sizeof stoppers / sizeof stoppers[0]; i++) {
        struct sigaction now;
        if (sigaction(stoppers[i], NULL, &now) == 0 && now.sa_handler != SIG_IGN)
            sigaddset(set, stoppers[i]);
    }
}

void hl_stop_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof stoppers / sizeof stoppers[0]; i++)
        sigaddset(&sa.sa_mask, stoppers[i]); /* one handler at a time */
    sigset_t caught;
    sigemptyset(&caught);
    hl_stop_signals(&caught);
    for (size_t i = 0; i < sizeof stoppers / sizeof stoppers[0]; i++)
        if (sigismember(&caught, stoppers[i]))
            sigaction(stoppers[i], &sa, NULL);
}

const char *hl_stop_name(int sig)
{
    switch (sig) {
    case SIGINT:
        return "SIGINT";
    case SIGTERM:
        return "SIGTERM";
    case SIGHUP:
        return "SIGHUP";
    default:
        return strsignal(sig);
    }
}

int hl_stop_signal(void)
{
    return (int)stop_signal;
}

void hl_stop_wait_child(pid_t pid, int *status)
{
    running_child = pid;
    if (stop_signal != 0) /* it came during the spawn, before pid was known */
        kill(pid, (int)stop_signal);
    siginfo_t info;
    while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
    }
    running_child = 0;
    while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
    }
}

void hl_stop_die(int sig)
{
    fflush(NULL);
    signal(sig, SIG_DFL);
    sigset_t just;
    sigemptyset(&just);
    sigaddset(&just, sig);
    sigprocmask(SIG_UNBLOCK, &just, NULL);
    raise(sig);
}

void hl_stop_test_pause(size_t finished)
{
    const char *at = getenv("HEAPLAB_TEST_PAUSE_AFTER_CELLS");
    if (at == NULL || strtoul(at, NULL, 10) != finished)
        return;
    /* Blocked from the check to sigsuspend: a signal cannot slip between. */
    sigset_t block, old;
    sigemptyset(&block);
    for (size_t i = 0; i < sizeof stoppers / sizeof stoppers[0]; i++)
        sigaddset(&block, stoppers[i]);
    sigprocmask(SIG_BLOCK, &block, &old);
    printf("heaplab: test pause after %zu cell(s)\n", finished);
    fflush(stdout);
    while (stop_signal == 0)
        sigsuspend(&old);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

void hl_remove_prefixed(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    size_t len = strlen(prefix);
    const struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, len) == 0)
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
}
