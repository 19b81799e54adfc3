/*
 * record_threads.c - a program for replay_test.sh to record: THREADS
 * threads (default 2) each make PAIRS (default 300000) malloc/free pairs of
 * 32..256 bytes at the same time, so the recorder's global order is taken
 * by several threads at once from the first event.  It prints the number
 * of pairs each thread made.
 *
 * Usage: record_threads [THREADS [PAIRS]]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static long pairs = 300000;

static void *churn(void *arg)
{
    (void)arg;
    for (long i = 0; i < pairs; i++) {
        char *p = malloc(32 + (size_t)(i % 8) * 32);
        if (p == NULL)
            abort();
        p[0] = (char)i;
        free(p);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2;
    if (argc > 2)
        pairs = atol(argv[2]);
    if (n < 1 || n > 64 || pairs < 1) {
        fprintf(stderr, "usage: %s [THREADS 1-64 [PAIRS >= 1]]\n", argv[0]);
        return 2;
    }
    pthread_t t[64];
    for (int k = 0; k < n; k++)
        if (pthread_create(&t[k], NULL, churn, NULL) != 0)
            return 1;
    for (int k = 0; k < n; k++)
        pthread_join(t[k], NULL);
    printf("%d threads x %ld pairs\n", n, pairs);
    return 0;
}
