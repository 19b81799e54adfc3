/*
 * crew.h - a fixed crew of worker threads that run one job together,
 * dispatch after dispatch: the threading of the classic multithreaded
 * workloads (larson, xmalloc, falseshare).
 *
 * What it is: `nthreads` workers numbered 0..nthreads-1.  The caller of
 * hl_crew_run is worker 0; workers 1..nthreads-1 are OS threads created by
 * hl_crew_start that stay for the whole run, so a timed step pays for no
 * thread creation.  From before the first is created to after the last is
 * joined, the allocators are told threads share them
 * (hl_allocator_threads_begin/end): the tracker then counts atomically.
 * With nthreads = 1 no thread is created and no lock is taken: the job
 * runs on the caller alone, safe under every allocator.
 *
 * Protocol: between dispatches the workers sleep on `wake` until
 * `generation` moves.  The caller writes what the next dispatch is to do
 * into its own state (the job's ctx), then hl_crew_run bumps `generation`
 * under the mutex (which publishes those writes), broadcasts `wake`, runs
 * worker 0's share itself and sleeps on `idle` until `running` falls to
 * zero; the last worker to finish signals it.  hl_crew_stop sets `quit`,
 * broadcasts and joins.  The job divides the work by worker number; the
 * crew knows nothing of it.
 *
 * Errors: each worker has its own hl_error inside the crew, handed to the
 * job.  A worker whose job fails is not run again (its failure is sticky),
 * and every later hl_crew_run reports the first failure in worker order.
 *
 * Cost per dispatch (nthreads > 1): two mutex round trips and a broadcast
 * on the caller, one wake-up, lock and unlock per worker, and one signal by
 * the last; a few microseconds, so a workload dispatches batches of
 * operations, not single ones.
 */
#ifndef HEAPLAB_CREW_H
#define HEAPLAB_CREW_H

#include <pthread.h>
#include <stdint.h>

#include "workloads/workload.h"

/* Worker `worker`'s share of the current dispatch.  Returns 0, or -1 with
 * *err (that worker's own buffer) set. */
typedef int (*hl_crew_job)(void *ctx, unsigned worker, hl_error *err);

struct hl_crew;

/* One worker, a cache line of its own.  rc and err are written by the
 * worker during a dispatch and read by the caller only after it. */
typedef struct hl_crew_worker {
    _Alignas(64) struct hl_crew *crew;
    unsigned index;
    int started; /* an OS thread was created (workers 1..n-1) */
    int rc;      /* 0, or -1 once its job has failed: it then runs no more */
    pthread_t tid;
    hl_error err;
} hl_crew_worker;

/* A zeroed hl_crew is a crew that was never started: hl_crew_stop may be
 * called on it.  The fields are the crew's own; read none of them. */
typedef struct hl_crew {
    hl_crew_job job;
    void *ctx;
    unsigned nthreads;
    hl_crew_worker *workers; /* nthreads of them, untracked memory */

    pthread_mutex_t mu; /* guards generation, running and quit */
    pthread_cond_t wake, idle;
    uint64_t generation; /* bumped once per dispatch */
    unsigned running;    /* workers 1..n-1 not yet done with this dispatch */
    int quit;
    int sync_ready; /* mu, wake and idle exist */
} hl_crew;

/* Start a crew of `nthreads` >= 1 workers running `job` with `ctx`: create
 * workers 1..nthreads-1, which wait for the first hl_crew_run.  `name`
 * (the workload's) heads the error messages.  c must be zeroed.  Returns 0;
 * or -1 with err set, having stopped what it started (c is then as if
 * zeroed).  Cost: nthreads - 1 thread creations and one untracked mapping. */
int hl_crew_start(hl_crew *c, const char *name, unsigned nthreads, hl_crew_job job, void *ctx,
                  hl_error *err);

/* Run the job once on every worker, the caller as worker 0, and wait for
 * all of them.  Everything the caller wrote before the call is visible to
 * every worker, and everything they wrote is visible to the caller after
 * it.  Returns 0, or -1 with err set to the first failed worker's error
 * (in worker order; failures of earlier dispatches included). */
int hl_crew_run(hl_crew *c, hl_error *err);

/* Stop and join the workers and release the crew; c is left zeroed.  Safe
 * on a zeroed (never-started), half-started or already-stopped crew.  Must
 * not be called during hl_crew_run. */
void hl_crew_stop(hl_crew *c);

#endif
