/*
 * churn.c - the plain C reference for the churn workload: the same loop
 * with malloc and free called directly, no harness and no method table.
 *
 * It does exactly what workloads/churn.c does, draw for draw, so that the
 * difference between the two is the harness alone: a window of `live`
 * slots; each operation draws one xoshiro256** value (workloads/rng.h,
 * seeded the same way), whose high half picks a slot and whose low half the
 * size; the block there is checked (its head cookie against its tail) and
 * freed, and a new one is allocated, with a cookie derived from the
 * operation's index written into its first and last 8 bytes.  The cookies
 * read back are folded into the same checksum, which the benchmark command
 * sets against heaplab's row: equal checksums prove the same work.
 *
 * Setup (the window's first `live` blocks) and the final drain are outside
 * the timed part, as they are outside heaplab's step loop.  It prints two
 * lines: "malloc_from PATH", the library that really served malloc (the
 * proof that a preload took), and "ops N seconds S ns_per_op X checksum HEX".
 *
 * Built a second time as ref-churn-floor (REF_FLOOR_ALLOC): the same loop
 * on reference/floor.h's allocator, the least an allocator can do, called
 * in-process.  Its time is the workload's own cost with an allocator next
 * to free, the floor under any allocator's churn figure; it prints
 * "malloc_from floor" instead of a library.
 *
 * Usage: ref-churn mixed|fixed64 LIVE OPS [SEED]
 */
#define _GNU_SOURCE /* dladdr, clock_gettime */

#include "reference/ref.h"
#include "workloads/rng.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef REF_FLOOR_ALLOC
#include "reference/floor.h"
#define BLOCK_ALLOC(size) floor_alloc(size)
#define BLOCK_FREE(p, size) floor_free(p, size)
#define MALLOC_FROM "floor"
#else
#define BLOCK_ALLOC(size) malloc(size)
#define BLOCK_FREE(p, size) free(p)
#define MALLOC_FROM ref_malloc_owner()
#endif

#define TAIL_MAGIC 0xa5a5a5a5a5a5a5a5ull

/* The size bands of workloads/churn.c's `mixed` variant. */
static const struct {
    uint16_t lo, hi;
    uint8_t percent;
} bands[] = {
    {16, 32, 30}, {33, 64, 30}, {65, 128, 20}, {129, 256, 12}, {257, 512, 8},
};

typedef struct slot {
    unsigned char *p;
    size_t size;
} slot;

static uint8_t band_of_percent[100];
static int fixed;
static uint64_t seed, checksum;

static inline size_t draw_size(uint64_t r)
{
    if (fixed)
        return 64;
    unsigned band = band_of_percent[((r >> 16) & 0xffff) * 100 >> 16];
    uint32_t span = bands[band].hi - bands[band].lo + 1u;
    return bands[band].lo + (((r & 0xffff) * span) >> 16);
}

static inline void make(slot *s, size_t size, uint64_t op)
{
    unsigned char *p = BLOCK_ALLOC(size);
    if (p == NULL) {
        fprintf(stderr, "ref-churn: out of memory after %" PRIu64 " operations\n", op);
        exit(1);
    }
    uint64_t cookie = hl_mix64(op ^ seed);
    memcpy(p, &cookie, 8);
    cookie ^= TAIL_MAGIC;
    memcpy(p + size - 8, &cookie, 8);
    s->p = p;
    s->size = size;
}

static inline void drop(slot *s)
{
    uint64_t head, tail;
    memcpy(&head, s->p, 8);
    memcpy(&tail, s->p + s->size - 8, 8);
    if ((head ^ TAIL_MAGIC) != tail) {
        fprintf(stderr, "ref-churn: corrupted block %p\n", (void *)s->p);
        exit(1);
    }
    checksum = (checksum ^ head) * 0x100000001b3ull;
    BLOCK_FREE(s->p, s->size);
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5 || (strcmp(argv[1], "mixed") != 0 && strcmp(argv[1], "fixed64") != 0)) {
        fprintf(stderr, "usage: %s mixed|fixed64 LIVE OPS [SEED]\n", argv[0]);
        return 2;
    }
    fixed = strcmp(argv[1], "fixed64") == 0;
    uint32_t live = (uint32_t)strtoul(argv[2], NULL, 10);
    uint64_t ops = strtoull(argv[3], NULL, 10);
    seed = argc == 5 ? strtoull(argv[4], NULL, 10) : 1;
    if (live == 0 || ops == 0) {
        fprintf(stderr, "%s: LIVE and OPS must be positive\n", argv[0]);
        return 2;
    }
    unsigned pct = 0;
    for (unsigned b = 0; b < sizeof bands / sizeof bands[0]; b++)
        for (unsigned k = 0; k < bands[b].percent; k++)
            band_of_percent[pct++] = (uint8_t)b;
    hl_rng rng;
    hl_rng_seed(&rng, seed);
    slot *slots = calloc(live, sizeof *slots);
    if (slots == NULL)
        return 1;
    uint64_t next_op = 0;
    for (uint32_t i = 0; i < live; i++)
        make(&slots[i], draw_size(hl_rng_next(&rng)), next_op++);

    double t0 = ref_now_s();
    for (uint64_t i = 0; i < ops; i++) {
        uint64_t r = hl_rng_next(&rng);
        slot *s = &slots[hl_rng_below((uint32_t)(r >> 32), live)];
        size_t size = draw_size(r);
        drop(s);
        make(s, size, next_op++);
    }
    double t = ref_now_s() - t0;

    for (uint32_t i = 0; i < live; i++)
        drop(&slots[i]);
    free(slots);
    printf("malloc_from %s\n", MALLOC_FROM);
    printf("ops %" PRIu64 " seconds %.6f ns_per_op %.3f checksum %016" PRIx64 "\n", ops, t,
           t * 1e9 / (double)ops, checksum);
    return 0;
}
