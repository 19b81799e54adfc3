/*
 * interrupt.h - stopping a matrix run without losing what it finished.
 *
 * SIGINT, SIGTERM and SIGHUP do not kill the matrix driver: a handler notes
 * the signal and passes it on to the cell's process that is running, and the
 * driver then stops starting cells, writes what finished and dies of the
 * signal itself (see interrupt.c and docs/metrics.md, "Interrupted runs").
 */
#ifndef HEAPLAB_INTERRUPT_H
#define HEAPLAB_INTERRUPT_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

/* Add to set the stopping signals (SIGINT, SIGTERM, SIGHUP) that this
 * process does not ignore: those it must watch for. */
void hl_stop_signals(sigset_t *set);

/* Catch SIGINT, SIGTERM and SIGHUP (those not ignored when bench started:
 * nohup's SIGHUP, a background job's SIGINT stay ignored). */
void hl_stop_install(void);

/* "SIGINT", "SIGTERM", "SIGHUP" (strsignal's text for any other). */
const char *hl_stop_name(int sig);

/* The first stopping signal received, or 0. */
int hl_stop_signal(void);

/* Wait for the cell process pid to end and reap it into *status.  A stopping
 * signal that arrives meanwhile (or arrived since the spawn) is passed on to
 * pid, and never to a process that has already been reaped. */
void hl_stop_wait_child(pid_t pid, int *status);

/* Die of sig (after a results write), so that the shell sees 128 + sig and a
 * shell loop around bench stops as it would on any other program. */
void hl_stop_die(int sig);

/* Test hook: when the environment sets HEAPLAB_TEST_PAUSE_AFTER_CELLS=N and
 * `finished` cell runs have ended, print "heaplab: test pause after N
 * cell(s)" and wait for a stopping signal, so that a test can signal at a
 * known point.  Does nothing otherwise. */
void hl_stop_test_pause(size_t finished);

/* Remove every file in dir whose name starts with prefix (a cell's scratch
 * files, including a temporary file its process left when it was killed in
 * the middle of a write).  Costs one scan of dir. */
void hl_remove_prefixed(const char *dir, const char *prefix);

#endif
