/*
 * crew.c - the worker crew of the multithreaded workloads: one condition
 * variable to wake the workers per dispatch, one to wait for the last of
 * them.  The design, the protocol and the cost are in crew.h.
 */
#include "workloads/crew.h"

#include <string.h>

/* Run worker w's share unless an earlier dispatch already failed it. */
static void crew_run_share(hl_crew *c, hl_crew_worker *w)
{
    if (w->rc == 0)
        w->rc = c->job(c->ctx, w->index, &w->err);
}

/* Workers 1..n-1: wait for the generation to move, run, report; until quit. */
static void *crew_worker_main(void *arg)
{
    hl_crew_worker *w = arg;
    hl_crew *c = w->crew;
    uint64_t seen = 0;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (c->generation == seen && !c->quit)
            pthread_cond_wait(&c->wake, &c->mu);
        if (c->quit)
            break;
        seen = c->generation;
        pthread_mutex_unlock(&c->mu);
        crew_run_share(c, w);
        pthread_mutex_lock(&c->mu);
        if (--c->running == 0)
            pthread_cond_signal(&c->idle);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int hl_crew_start(hl_crew *c, const char *name, unsigned nthreads, hl_crew_job job, void *ctx,
                  hl_error *err)
{
    memset(c, 0, sizeof *c);
    c->job = job;
    c->ctx = ctx;
    c->workers = hl_untracked_alloc(sizeof(hl_crew_worker) * nthreads);
    if (c->workers == NULL)
        return hl_fail(err, "%s: out of memory for %u workers", name, nthreads);
    c->nthreads = nthreads;
    for (unsigned k = 0; k < nthreads; k++) {
        c->workers[k].crew = c;
        c->workers[k].index = k;
    }
    if (nthreads == 1)
        return 0;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->wake, NULL);
    pthread_cond_init(&c->idle, NULL);
    c->sync_ready = 1;
    hl_allocator_threads_begin(); /* before any worker exists; ended after the joins */
    for (unsigned k = 1; k < nthreads; k++) {
        int rc = pthread_create(&c->workers[k].tid, NULL, crew_worker_main, &c->workers[k]);
        if (rc != 0) {
            hl_crew_stop(c);
            return hl_fail(err, "%s: could not start thread %u of %u (error %d)", name, k,
                           nthreads, rc);
        }
        c->workers[k].started = 1;
    }
    return 0;
}

int hl_crew_run(hl_crew *c, hl_error *err)
{
    if (c->nthreads > 1) {
        pthread_mutex_lock(&c->mu);
        c->running = c->nthreads - 1;
        c->generation++;
        pthread_cond_broadcast(&c->wake);
        pthread_mutex_unlock(&c->mu);
    }
    crew_run_share(c, &c->workers[0]);
    if (c->nthreads > 1) {
        pthread_mutex_lock(&c->mu);
        while (c->running > 0)
            pthread_cond_wait(&c->idle, &c->mu);
        pthread_mutex_unlock(&c->mu);
    }
    for (unsigned k = 0; k < c->nthreads; k++)
        if (c->workers[k].rc != 0) {
            *err = c->workers[k].err;
            return -1;
        }
    return 0;
}

void hl_crew_stop(hl_crew *c)
{
    if (c->sync_ready) {
        pthread_mutex_lock(&c->mu);
        c->quit = 1;
        pthread_cond_broadcast(&c->wake);
        pthread_mutex_unlock(&c->mu);
        for (unsigned k = 1; k < c->nthreads; k++)
            if (c->workers[k].started)
                pthread_join(c->workers[k].tid, NULL);
        hl_allocator_threads_end();
        pthread_cond_destroy(&c->wake);
        pthread_cond_destroy(&c->idle);
        pthread_mutex_destroy(&c->mu);
    }
    if (c->workers != NULL)
        hl_untracked_free(c->workers, sizeof(hl_crew_worker) * c->nthreads);
    memset(c, 0, sizeof *c);
}
