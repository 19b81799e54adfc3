/*
 * test_conformance.c - one conformance suite for every registered allocator.
 *
 * usage: test_conformance [ALLOCATOR]      (ctest: conformance)
 *
 * Without an argument it runs every allocator of the registry
 * (tests/each_allocator.h): those that need no preload in this process,
 * each system allocator in a child of its own with its library preloaded.
 * Every allocator first proves the process really has it.  Each runs the
 * suite twice: as it is, and wrapped in the tracking decorator, whose
 * counts are checked as well.  Checks: alignment, no overlap, every size
 * from 1 to 4096 and some large ones, contents kept across realloc, size 0,
 * and a long seeded random alloc/free/realloc sequence with every block's
 * contents verified.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "allocators/allocator.h"
#include "tests/check.h"
#include "tests/each_allocator.h"
#include "workloads/rng.h"

/* Fill or verify p[0..size) with a pattern named by `tag`. */
static void fill(unsigned char *p, size_t size, uint64_t tag)
{
    for (size_t i = 0; i < size; i++)
        p[i] = (unsigned char)(tag + i * 131);
}

static int intact(const unsigned char *p, size_t size, uint64_t tag)
{
    for (size_t i = 0; i < size; i++)
        if (p[i] != (unsigned char)(tag + i * 131))
            return 0;
    return 1;
}

typedef struct block {
    unsigned char *p;
    size_t size;
    uint64_t tag;
} block;

static int by_address(const void *a, const void *b)
{
    const block *x = a, *y = b;
    return x->p < y->p ? -1 : x->p > y->p;
}

/* Every size from 1 to 4096 live at once: aligned, disjoint, intact. */
static void check_every_small_size(const hl_allocator *a)
{
    enum { N = 4096 };
    static block blocks[N];
    for (size_t i = 0; i < N; i++) {
        size_t size = i + 1;
        blocks[i] = (block){hl_alloc(a, size), size, i};
        CHECK(blocks[i].p != NULL, "alloc(%zu) failed", size);
        if (blocks[i].p == NULL)
            return;
        CHECK((uintptr_t)blocks[i].p % hl_min_alignment(size) == 0, "alloc(%zu) = %p misaligned",
              size, (void *)blocks[i].p);
        fill(blocks[i].p, size, i);
    }
    for (size_t i = 0; i < N; i++)
        CHECK(intact(blocks[i].p, blocks[i].size, blocks[i].tag), "block of %zu bytes overwritten",
              blocks[i].size);
    qsort(blocks, N, sizeof blocks[0], by_address);
    for (size_t i = 1; i < N; i++)
        CHECK(blocks[i - 1].p + blocks[i - 1].size <= blocks[i].p, "blocks %p+%zu and %p overlap",
              (void *)blocks[i - 1].p, blocks[i - 1].size, (void *)blocks[i].p);
    for (size_t i = 0; i < N; i++)
        hl_free(a, blocks[i].p, blocks[i].size);
}

static void check_large_sizes(const hl_allocator *a)
{
    static const size_t sizes[] = {8191, 65536, 131073, 1 << 20, (16 << 20) + 3, 100 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *p = hl_alloc(a, sizes[i]);
        CHECK(p != NULL, "alloc(%zu) failed", sizes[i]);
        if (p == NULL)
            continue;
        CHECK((uintptr_t)p % HL_ALIGNMENT == 0, "alloc(%zu) misaligned", sizes[i]);
        memset(p, 0x5a, sizes[i]);
        CHECK(p[0] == 0x5a && p[sizes[i] - 1] == 0x5a, "large block unusable");
        hl_free(a, p, sizes[i]);
    }
}

static void check_zero_size(const hl_allocator *a)
{
    void *p = hl_alloc(a, 0), *q = hl_alloc(a, 0);
    CHECK(p != NULL && q != NULL && p != q, "alloc(0) must give unique blocks (%p, %p)", p, q);
    hl_free(a, p, 0);
    hl_free(a, q, 0);
    hl_free(a, NULL, 0); /* must be harmless */
}

/* Grow and shrink one block across every size class boundary. */
static void check_realloc_keeps_contents(const hl_allocator *a)
{
    static const size_t path[] = {1, 16, 17, 48, 512, 513, 4096, 100000, 30, 700, 8, 1 << 20, 64};
    size_t size = path[0];
    unsigned char *p = hl_alloc(a, size);
    fill(p, size, 7);
    for (size_t i = 1; i < sizeof path / sizeof path[0]; i++) {
        size_t next = path[i], keep = size < next ? size : next;
        unsigned char *q = hl_realloc(a, p, size, next);
        CHECK(q != NULL, "realloc %zu -> %zu failed", size, next);
        if (q == NULL)
            break;
        CHECK((uintptr_t)q % hl_min_alignment(next) == 0, "realloc to %zu misaligned", next);
        CHECK(intact(q, keep, 7), "realloc %zu -> %zu lost contents", size, next);
        fill(q, next, 7);
        p = q;
        size = next;
    }
    hl_free(a, p, size);
    p = hl_realloc(a, NULL, 0, 40); /* realloc of NULL allocates */
    CHECK(p != NULL, "realloc(NULL, 40) failed");
    hl_free(a, p, 40);
}

/* Mostly small sizes with a long tail, as programs allocate. */
static size_t random_size(hl_rng *r)
{
    uint64_t x = hl_rng_next(r);
    unsigned pick = (unsigned)(x % 100);
    x >>= 8;
    if (pick < 90)
        return 1 + x % 512;
    if (pick < 99)
        return 1 + x % 4096;
    return 1 + x % 65536;
}

/* A long seeded random sequence of alloc, free and realloc, every block's
 * contents verified before it is freed or resized and at the end. */
static void check_random_sequence(const hl_allocator *a, uint64_t seed, size_t ops)
{
    enum { SLOTS = 2000 };
    static block slots[SLOTS];
    hl_rng r;
    hl_rng_seed(&r, seed);
    memset(slots, 0, sizeof slots);
    size_t bad = 0;
    for (size_t i = 0; i < ops; i++) {
        uint64_t x = hl_rng_next(&r);
        block *s = &slots[x % SLOTS];
        unsigned action = (unsigned)((x >> 32) % 10);
        if (s->p != NULL && !intact(s->p, s->size, s->tag))
            bad++;
        if (s->p == NULL) {
            s->size = random_size(&r);
            s->tag = i;
            s->p = hl_alloc(a, s->size);
            CHECK(s->p != NULL, "alloc(%zu) failed at op %zu", s->size, i);
            if (s->p == NULL)
                return;
            fill(s->p, s->size, s->tag);
        } else if (action < 6) {
            hl_free(a, s->p, s->size);
            s->p = NULL;
        } else {
            size_t next = random_size(&r), keep = s->size < next ? s->size : next;
            unsigned char *q = hl_realloc(a, s->p, s->size, next);
            CHECK(q != NULL, "realloc failed at op %zu", i);
            if (q == NULL)
                return;
            if (!intact(q, keep, s->tag))
                bad++;
            s->p = q;
            s->size = next;
            s->tag = i;
            fill(q, next, s->tag);
        }
    }
    for (size_t i = 0; i < SLOTS; i++) {
        if (slots[i].p == NULL)
            continue;
        if (!intact(slots[i].p, slots[i].size, slots[i].tag))
            bad++;
        hl_free(a, slots[i].p, slots[i].size);
        slots[i].p = NULL;
    }
    CHECK(bad == 0, "%zu blocks found corrupted in the random sequence", bad);
}

/* The suite over allocator `name`, plain or through the tracker. */
static void conform(const char *name, int tracked)
{
    const hl_allocator_ops *ops = hl_allocator_find(name);
    char version[256] = "", why[256] = "";
    CHECK(ops->identify(version, sizeof version, why, sizeof why) == 0,
          "this process does not have allocator %s: %s", ops->name, why);
    printf("testing %s%s (%s)\n", ops->name, tracked ? ", tracked" : "", version);

    hl_allocator base = {0}, a;
    CHECK(hl_allocator_open(&base, ops) == 0, "init failed");
    a = base;
    if (tracked)
        CHECK(hl_tracker_wrap(&a, &base) == 0, "tracker wrap failed");

    check_zero_size(&a);
    check_every_small_size(&a);
    check_large_sizes(&a);
    check_realloc_keeps_contents(&a);
    check_random_sequence(&a, 12345, 200000);

    if (tracked) {
        hl_tracker_counts c = hl_tracker_read(&a);
        CHECK(c.live_bytes == 0 && c.live_blocks == 0, "tracker: %llu bytes in %llu blocks still "
              "live after everything was freed", (unsigned long long)c.live_bytes,
              (unsigned long long)c.live_blocks);
        CHECK(c.allocs == c.frees, "tracker: %llu allocs but %llu frees",
              (unsigned long long)c.allocs, (unsigned long long)c.frees);
        CHECK(c.live_peak >= (4096ull * 4097) / 2, "tracker: live peak %llu below the 4096 blocks "
              "of check_every_small_size", (unsigned long long)c.live_peak);
        hl_allocator_close(&a);
    }
    hl_allocator_close(&base);
}

int main(int argc, char **argv)
{
    if (each_allocator_init(argc, argv, "test_conformance", EACH_PROVEN) != 0)
        return 2;
    for (size_t i = 0; i < each_allocator_count; i++) {
        conform(each_allocators[i], 0);
        conform(each_allocators[i], 1);
    }
    return each_allocator_finish(check_status("test_conformance"));
}
