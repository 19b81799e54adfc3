/*
 * test_pool.c - white-box tests of the pool allocator (allocators/pool.c).
 *
 * Goes through the method table of hl_pool_allocator() and looks inside with
 * hl_pool_inspect / hl_pool_arena_of only.  Checks the size-class mapping,
 * the cache-coloured pool layout (headers of consecutive pools at different
 * colours, blocks clear of the header, the colour gap before it holding
 * blocks too, capacity as carved), lazy carving,
 * LIFO reuse, full-pool relinking, the arena order, arenas
 * going back to the kernel (seen from /proc as well as from inside),
 * realloc in place and moving, a seeded random run against the
 * snapshot's figures, the RSS of the first small allocation (smaps_rollup)
 * and statistics that count resident pages, not mapped ones.
 *
 * Build and run (release and debug+sanitizers both must pass):
 *   gcc -std=c11 -D_GNU_SOURCE -O2 -DNDEBUG -I. allocators/allocator.c \
 *       allocators/pool.c tests/test_pool.c -o test_pool && ./test_pool
 * Prints one line per failed check; exits 0 when all pass, 1 otherwise.
 */
#include "allocators/allocator.h"
#include "allocators/pool.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;
static int checks;

#define CHECK(cond)                                                          \
    do {                                                                     \
        checks++;                                                            \
        if (!(cond)) {                                                       \
            failures++;                                                      \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);           \
        }                                                                    \
    } while (0)

#define MIB ((size_t)1 << 20)

/* ------------------------------------------------------------ helpers -- */

static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
    rng_state = seed ? seed : 0x9E3779B97F4A7C15ull;
}

/* xorshift64*: deterministic across runs and platforms. */
static uint64_t rng_next(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static size_t rng_below(size_t n)
{
    return (size_t)(rng_next() % n);
}

static void open_pool(hl_allocator *a)
{
    int rc = hl_allocator_open(a, hl_pool_allocator());
    CHECK(rc == 0);
    if (rc != 0) {
        printf("cannot open the pool allocator (%d)\n", rc);
        exit(1);
    }
}

static hl_pool_snapshot snap(const hl_allocator *a)
{
    hl_pool_snapshot s;
    int rc = hl_pool_inspect(a->ctx, &s);
    CHECK(rc == 0);
    return s;
}

static size_t total_used(const hl_pool_snapshot *s)
{
    size_t n = 0;
    for (unsigned i = 0; i < HL_POOL_NCLASSES; i++)
        n += s->used_blocks[i];
    return n;
}

static uintptr_t pool_base(const void *p)
{
    return (uintptr_t)p & ~(uintptr_t)(HL_POOL_SIZE - 1);
}

/* Bytes from the start of p's pool (of class idx) to its block i. */
static size_t block_offset(const void *p, unsigned idx, size_t i)
{
    return hl_pool_block_offset(idx, hl_pool_colour_of(pool_base(p)), i);
}

/* Whether [off, off + size) in a pool of colour `colour` stays clear of
 * its header and inside the pool. */
static int clear_of_header(unsigned colour, size_t off, size_t size)
{
    size_t header = hl_pool_header_offset(colour);
    int overlaps = off < header + HL_POOL_HEADER_SIZE && off + size > header;
    return !overlaps && off + size <= HL_POOL_SIZE;
}

/* Blocks of class idx the pool holding p has room for. */
static size_t capacity_of_pool(const void *p, unsigned idx)
{
    return hl_pool_class_capacity(idx, hl_pool_colour_of(pool_base(p)));
}

static int aligned(const void *p)
{
    return ((uintptr_t)p & (HL_ALIGNMENT - 1)) == 0;
}

static size_t arena_index(const hl_allocator *a, const void *p)
{
    size_t idx = SIZE_MAX;
    unsigned nfree = 0;
    if (hl_pool_arena_of(a->ctx, p, &idx, &nfree) != 0)
        return SIZE_MAX;
    return idx;
}

static unsigned arena_nfree(const hl_allocator *a, const void *p)
{
    size_t idx = 0;
    unsigned nfree = ~0u;
    hl_pool_arena_of(a->ctx, p, &idx, &nfree);
    return nfree;
}

/* The byte pattern of a block: a function of its seed and the position. */
static unsigned char pattern_byte(uint32_t seed, size_t i)
{
    return (unsigned char)(seed * 131u + i * 7u + (i >> 8));
}

static void pattern_fill(void *p, size_t n, uint32_t seed)
{
    unsigned char *q = p;
    for (size_t i = 0; i < n; i++)
        q[i] = pattern_byte(seed, i);
}

static int pattern_ok(const void *p, size_t n, uint32_t seed)
{
    const unsigned char *q = p;
    for (size_t i = 0; i < n; i++)
        if (q[i] != pattern_byte(seed, i))
            return 0;
    return 1;
}

/* ------------------------------------------------------ /proc readers -- */

/* Read a /proc file into buf[0..len) with plain syscalls, so that measuring
 * neither allocates nor (with a static buffer) touches a new page.  Returns
 * buf, NUL-terminated, or NULL when unreadable. */
static char *read_proc(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    return buf;
}

/* Resident bytes from /proc/self/statm.  0 when unreadable. */
static size_t rss_bytes(void)
{
    char buf[256];
    unsigned long size = 0, resident = 0;
    if (read_proc("/proc/self/statm", buf, sizeof buf) == NULL ||
        sscanf(buf, "%lu %lu", &size, &resident) != 2)
        return 0;
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* Anonymous resident bytes from /proc/self/smaps_rollup, which walks the
 * page tables (exact, unlike statm's cached counters, and blind to code
 * pages faulted in on a first call).  0 when unreadable. */
static size_t anon_resident_bytes(void)
{
    static char buf[4096];
    const char *line = read_proc("/proc/self/smaps_rollup", buf, sizeof buf);
    unsigned long kib = 0;
    if (line == NULL || (line = strstr(buf, "\nAnonymous:")) == NULL ||
        sscanf(line + 1, "Anonymous: %lu kB", &kib) != 1)
        return 0;
    return (size_t)kib << 10;
}

/* Add the extent of one /proc/self/maps line when it is anonymous (inode 0
 * and no path). */
static size_t maps_line_anon(const char *line)
{
    unsigned long start, end, inode;
    char perms[8], dev[16];
    unsigned long long offset;
    int consumed = 0;
    if (sscanf(line, "%lx-%lx %7s %llx %15s %lu %n", &start, &end, perms, &offset, dev, &inode, &consumed) < 6)
        return 0;
    if (inode != 0)
        return 0;
    const char *path = line + consumed;
    while (*path == ' ')
        path++;
    if (*path != '\0' && *path != '\n')
        return 0;
    return end - start;
}

/* Bytes in anonymous mappings, from /proc/self/maps streamed through a
 * stack buffer (no allocation).  0 when unreadable. */
static size_t anon_mapped_bytes(void)
{
    char buf[8192];
    char line[512];
    size_t len = 0, total = 0;
    int fd = open("/proc/self/maps", O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                line[len] = '\0';
                total += maps_line_anon(line);
                len = 0;
            } else if (len + 1 < sizeof line) {
                line[len++] = buf[i];
            }
        }
    }
    close(fd);
    return total;
}

/* ------------------------------------------------------------- tests -- */

/* Every size 1..512 maps to (n-1)>>4 and lands in a pool of that class;
 * 0 and larger sizes go to the fallback. */
static void test_size_classes(void)
{
    for (size_t n = 1; n <= HL_POOL_SMALL_MAX; n++) {
        unsigned idx = hl_pool_class_of(n);
        size_t size = hl_pool_class_size(idx);
        CHECK(idx == (n - 1) / 16);
        CHECK(idx < HL_POOL_NCLASSES);
        CHECK(size >= n && size - n < HL_POOL_CLASS_STEP && size % HL_POOL_CLASS_STEP == 0);
    }
    CHECK(hl_pool_class_of(1) == 0 && hl_pool_class_of(16) == 0 && hl_pool_class_of(17) == 1);
    CHECK(hl_pool_class_of(512) == 31 && hl_pool_class_size(31) == 512);
    /* 64 x colour / size blocks in the gap + (16384 - 64 x colour - 48) / size
     * after the header: the table in pool.c, worked by hand.  Colour 7,
     * 16 B: 28 + 993; 64 B: 7 + 248; 80 B: 5 + 198 (one fewer than colour
     * 0: 448 % 80 + 15888 % 80 = 128 bytes lost); 512 B: none in the gap. */
    CHECK(hl_pool_class_capacity(0, 0) == 1021 && hl_pool_class_capacity(3, 0) == 255);
    CHECK(hl_pool_class_capacity(0, 7) == 1021 && hl_pool_class_capacity(3, 7) == 255);
    CHECK(hl_pool_class_capacity(4, 0) == 204 && hl_pool_class_capacity(4, 7) == 203);
    CHECK(hl_pool_class_capacity(31, 0) == 31 && hl_pool_class_capacity(31, 7) == 31);
    CHECK(hl_pool_blocks_before_header(0, 7) == 28 && hl_pool_blocks_before_header(4, 7) == 5);
    CHECK(hl_pool_blocks_before_header(3, 0) == 0 && hl_pool_blocks_before_header(31, 7) == 0);
    /* Block 0 at the pool's start when a block fits in the gap, else right
     * after the header; the first block past the header right after it. */
    CHECK(hl_pool_block_offset(0, 0, 0) == 48 && hl_pool_block_offset(0, 1, 0) == 0);
    CHECK(hl_pool_block_offset(6, 1, 0) == 64 + 48 && hl_pool_block_offset(6, 2, 0) == 0);
    CHECK(hl_pool_block_offset(31, 7, 0) == 448 + 48);
    CHECK(hl_pool_block_offset(0, 7, 27) == 432 && hl_pool_block_offset(0, 7, 28) == 496);
    CHECK(hl_pool_block_offset(4, 7, 4) == 320 && hl_pool_block_offset(4, 7, 5) == 496);
    CHECK(hl_pool_block_offset(4, 7, 202) == 496 + 197 * 80);
    /* The header of the pool at base sits ((base >> 14) & 7) x 64 bytes in. */
    for (uintptr_t k = 0; k < 64; k++) {
        uintptr_t base = ((uintptr_t)0x7f31 << 32) + k * HL_POOL_SIZE;
        unsigned colour = hl_pool_colour_of(base);
        CHECK(hl_pool_header_offset(colour) == ((base >> 14) & 7) * 64);
        CHECK(hl_pool_header_offset(colour) <= 448);
    }
    /* Every class and colour: blocks ascend without overlapping, stay
     * aligned, clear of the header and inside the pool, and only the
     * gap's remainder and the tail (each under one block) stay unused. */
    size_t bad_layout = 0;
    for (unsigned idx = 0; idx < HL_POOL_NCLASSES; idx++) {
        size_t size = hl_pool_class_size(idx);
        for (unsigned colour = 0; colour < HL_POOL_COLOURS; colour++) {
            size_t cap = hl_pool_class_capacity(idx, colour);
            size_t header = hl_pool_header_offset(colour);
            size_t below = 0, end = 0;
            for (size_t i = 0; i < cap; i++) {
                size_t off = hl_pool_block_offset(idx, colour, i);
                bad_layout += off % HL_ALIGNMENT != 0 || off < end || !clear_of_header(colour, off, size);
                below += off < header;
                end = off + size;
            }
            bad_layout += header - below * size >= size;         /* the gap's remainder */
            bad_layout += HL_POOL_SIZE - end >= size;              /* the tail */
            bad_layout += below != hl_pool_blocks_before_header(idx, colour);
        }
    }
    CHECK(bad_layout == 0);

    hl_allocator a;
    open_pool(&a);
    static void *blocks[HL_POOL_SMALL_MAX + 1];
    for (size_t n = 1; n <= HL_POOL_SMALL_MAX; n++) {
        hl_pool_snapshot before = snap(&a);
        void *p = hl_alloc(&a, n);
        hl_pool_snapshot after = snap(&a);
        blocks[n] = p;
        CHECK(p != NULL && aligned(p));
        if (p == NULL)
            continue;
        memset(p, 0xA5, n);
        unsigned idx = hl_pool_class_of(n);
        CHECK(after.used_blocks[idx] == before.used_blocks[idx] + 1);
        CHECK(total_used(&after) == total_used(&before) + 1);
        CHECK(after.fallback_live_blocks == before.fallback_live_blocks);
        CHECK(arena_index(&a, p) != SIZE_MAX);
    }
    static const size_t large[] = {0, 513, 1000, 4096, 100000};
    void *lp[sizeof large / sizeof large[0]];
    for (size_t i = 0; i < sizeof large / sizeof large[0]; i++) {
        hl_pool_snapshot before = snap(&a);
        lp[i] = hl_alloc(&a, large[i]);
        hl_pool_snapshot after = snap(&a);
        CHECK(lp[i] != NULL && aligned(lp[i]));
        CHECK(after.fallback_live_blocks == before.fallback_live_blocks + 1);
        CHECK(after.fallback_live_bytes == before.fallback_live_bytes + large[i]);
        CHECK(total_used(&after) == total_used(&before));
        CHECK(arena_index(&a, lp[i]) == SIZE_MAX);
        if (lp[i] != NULL && large[i] != 0)
            memset(lp[i], 0x5A, large[i]);
    }
    void *z2 = hl_alloc(&a, 0);
    CHECK(z2 != NULL && z2 != lp[0]);
    hl_free(&a, z2, 0);
    for (size_t i = 0; i < sizeof large / sizeof large[0]; i++)
        hl_free(&a, lp[i], large[i]);
    for (size_t n = HL_POOL_SMALL_MAX; n >= 1; n--)
        hl_free(&a, blocks[n], n);
    hl_free(&a, NULL, 100); /* NULL is ignored whatever the size */
    hl_free(&a, NULL, 0);
    hl_pool_snapshot s = snap(&a);
    CHECK(total_used(&s) == 0 && s.bytes_in_used_blocks == 0 && s.pools_used == 0);
    CHECK(s.fallback_live_blocks == 0 && s.fallback_live_bytes == 0);
    hl_allocator_close(&a);
}

/* The cache-coloured layout.  For every class, fill POOLS_PER_CLASS pools
 * one block at a time, writing every byte of every block: blocks come in
 * hl_pool_block_offset's order (the colour gap before the header from the
 * pool's start first, then past the header), never reach into the header
 * or past the pool's end, and a pool holds exactly
 * hl_pool_class_capacity(class, colour) blocks before the next pool starts.
 * Pools next to each other (taken in turn, fresh from an arena in address
 * order or reused from its free list in reverse) have headers at different
 * colours, and every
 * colour turns up.  The snapshot (which reads the headers) must still agree
 * afterwards, so no block was written over a header. */
static void test_colour_layout(void)
{
    enum { POOLS_PER_CLASS = HL_POOL_COLOURS + 1, MAX_BLOCKS = POOLS_PER_CLASS * 1021 + 1 };
    static void *blk[MAX_BLOCKS];
    hl_allocator a;
    open_pool(&a);
    unsigned colours_seen = 0;
    size_t adjacent_pairs = 0;
    for (unsigned idx = 0; idx < HL_POOL_NCLASSES; idx++) {
        const size_t size = hl_pool_class_size(idx);
        size_t count = 0, in_pool = 0, pools_done = 0;
        size_t bad_place = 0, bad_order = 0, bad_capacity = 0, bad_colour = 0;
        uintptr_t base = 0;
        while (pools_done < POOLS_PER_CLASS && count < MAX_BLOCKS) {
            void *p = hl_alloc(&a, size);
            CHECK(p != NULL && aligned(p));
            if (p == NULL)
                break;
            blk[count++] = p;
            uintptr_t b = pool_base(p);
            if (b != base) {
                if (base != 0) {
                    bad_capacity += in_pool != hl_pool_class_capacity(idx, hl_pool_colour_of(base));
                    pools_done++;
                    if (b == base + HL_POOL_SIZE || b + HL_POOL_SIZE == base) {
                        adjacent_pairs++;
                        bad_colour += hl_pool_colour_of(b) == hl_pool_colour_of(base);
                    }
                }
                base = b;
                in_pool = 0;
                colours_seen |= 1u << hl_pool_colour_of(b);
            }
            size_t off = (uintptr_t)p - b;
            bad_place += !clear_of_header(hl_pool_colour_of(b), off, size);
            bad_order += off != block_offset(p, idx, in_pool);
            in_pool++;
            memset(p, 0xFF, size);
        }
        CHECK(pools_done == POOLS_PER_CLASS);
        CHECK(bad_place == 0 && bad_order == 0 && bad_capacity == 0 && bad_colour == 0);
        if (bad_place || bad_order || bad_capacity || bad_colour)
            printf("  class %u: %zu misplaced, %zu out of order, %zu wrong capacities, %zu same colours\n",
                   idx, bad_place, bad_order, bad_capacity, bad_colour);
        hl_pool_snapshot s = snap(&a);
        CHECK(s.used_blocks[idx] == count && s.carved_blocks[idx] == count);
        CHECK(total_used(&s) == count && s.bytes_in_used_blocks == count * size);
        CHECK(s.pools_used == POOLS_PER_CLASS + 1 && s.pools_full == POOLS_PER_CLASS);
        for (size_t k = 0; k < count; k++)
            hl_free(&a, blk[k], size);
        s = snap(&a);
        CHECK(s.pools_used == 0 && total_used(&s) == 0);
    }
    CHECK(colours_seen == 0xFF); /* all eight colours */
    CHECK(adjacent_pairs >= HL_POOL_NCLASSES * (POOLS_PER_CLASS - 2));
    hl_allocator_close(&a);
}

/* The colour gap holds blocks (pool.c, "Memory layers").  Fill class 0
 * (16 B) pools block by block until a pool of colour k > 0 is full: its
 * first 4k blocks lie in the gap, from the pool's start up to the header
 * (k x 64 bytes in), none overlaps the header's 48 bytes, and it holds
 * 1021 blocks like a colour 0 pool, not 1021 - 4k.  Every block of it is
 * written whole; its header must survive that (the snapshot's counts stay
 * exact, and the pool goes back to its arena when its blocks are freed). */
static void test_colour_gap_used(void)
{
    enum { MAX_BLOCKS = 3 * 1021 };
    static void *blk[MAX_BLOCKS];
    const size_t size = 16;
    hl_allocator a;
    open_pool(&a);
    size_t count = 0, in_pool = 0, in_gap = 0, overlapping = 0;
    uintptr_t base = 0, full_base = 0;
    size_t first_off = SIZE_MAX;
    while (full_base == 0 && count < MAX_BLOCKS) {
        void *p = hl_alloc(&a, size);
        CHECK(p != NULL);
        if (p == NULL)
            break;
        blk[count++] = p;
        uintptr_t b = pool_base(p);
        if (b != base) {
            if (base != 0 && hl_pool_colour_of(base) != 0)
                full_base = base; /* the pool before p's is full */
            else
                base = b, in_pool = in_gap = overlapping = 0, first_off = (uintptr_t)p - b;
        }
        if (b != base)
            continue;
        size_t off = (uintptr_t)p - b;
        in_pool++;
        in_gap += off + size <= hl_pool_header_offset(hl_pool_colour_of(b));
        if (!clear_of_header(hl_pool_colour_of(b), off, size))
            overlapping++; /* not written: it would smash the header */
        else
            memset(p, 0xEE, size);
    }
    CHECK(full_base != 0);
    const unsigned colour = hl_pool_colour_of(full_base);
    CHECK(colour > 0 && first_off == 0);
    CHECK(in_gap == 4 * colour && overlapping == 0 && in_pool == 1021);
    if (in_gap != 4 * colour || overlapping != 0 || in_pool != 1021 || first_off != 0)
        printf("  colour %u pool: %zu blocks in the gap (want %u), %zu over the header, %zu in all (want 1021), "
               "block 0 at %zu (want 0)\n",
               colour, in_gap, 4 * colour, overlapping, in_pool, first_off);
    if (overlapping != 0) {
        /* Freeing a block over the header would write its link there. */
        hl_allocator_close(&a);
        return;
    }
    hl_pool_snapshot s = snap(&a);
    CHECK(s.used_blocks[0] == count && s.carved_blocks[0] == count);
    CHECK(s.pools_full >= 1);
    for (size_t k = 0; k < count; k++)
        hl_free(&a, blk[k], size);
    s = snap(&a);
    CHECK(s.pools_used == 0 && total_used(&s) == 0);
    hl_allocator_close(&a);
}

/* A fresh pool carves one block per allocation, in address order; a freed
 * block is the next one handed out (LIFO) and carving does not advance. */
static void test_lazy_carving(void)
{
    hl_allocator a;
    open_pool(&a);
    const size_t n = 100;
    const unsigned idx = hl_pool_class_of(n);
    const size_t size = hl_pool_class_size(idx);

    void *p[10];
    p[0] = hl_alloc(&a, n);
    hl_pool_snapshot s = snap(&a);
    CHECK(s.carved_blocks[idx] == 1 && s.used_blocks[idx] == 1);
    CHECK(s.pools_used == 1 && s.pools_full == 0 && s.arenas_mapped == 1);
    CHECK((uintptr_t)p[0] - pool_base(p[0]) == block_offset(p[0], idx, 0));
    for (unsigned i = 0; i < HL_POOL_NCLASSES; i++)
        if (i != idx)
            CHECK(s.carved_blocks[i] == 0 && s.used_blocks[i] == 0);
    for (size_t k = 1; k < 10; k++) {
        p[k] = hl_alloc(&a, n);
        s = snap(&a);
        CHECK(s.carved_blocks[idx] == k + 1);
        CHECK(s.used_blocks[idx] == k + 1);
        CHECK((uintptr_t)p[k] == pool_base(p[0]) + block_offset(p[0], idx, k));
    }
    /* LIFO: the last block freed comes back first. */
    hl_free(&a, p[3], n);
    hl_free(&a, p[7], n);
    s = snap(&a);
    CHECK(s.used_blocks[idx] == 8 && s.carved_blocks[idx] == 10);
    void *r1 = hl_alloc(&a, n);
    void *r2 = hl_alloc(&a, 97); /* same class (97..112), other size */
    CHECK(r1 == p[7]);
    CHECK(r2 == p[3]);
    s = snap(&a);
    CHECK(s.carved_blocks[idx] == 10 && s.used_blocks[idx] == 10);
    void *r3 = hl_alloc(&a, n);
    CHECK((uintptr_t)r3 == pool_base(p[0]) + block_offset(p[0], idx, 10));
    s = snap(&a);
    CHECK(s.carved_blocks[idx] == 11);
    CHECK(s.bytes_in_used_blocks == 11 * size);
    hl_free(&a, r3, n);
    for (size_t k = 0; k < 10; k++)
        hl_free(&a, p[k], n);
    s = snap(&a);
    CHECK(s.used_blocks[idx] == 0 && s.pools_used == 0);
    /* The emptied pool lost its class; a new class starts over at block 0. */
    void *q = hl_alloc(&a, 30);
    s = snap(&a);
    CHECK(s.carved_blocks[hl_pool_class_of(30)] == 1 && s.carved_blocks[idx] == 0);
    CHECK((uintptr_t)q - pool_base(q) == block_offset(q, hl_pool_class_of(30), 0));
    hl_free(&a, q, 30);
    hl_allocator_close(&a);
}

/* Allocate blocks of n bytes (n a size class of at most 64 blocks a pool)
 * into p[] until the first pool is full, each checked to be in it.
 * Returns the pool's capacity. */
static size_t fill_one_pool(hl_allocator *a, size_t n, void **p)
{
    p[0] = hl_alloc(a, n);
    const size_t cap = capacity_of_pool(p[0], hl_pool_class_of(n));
    CHECK(cap <= 64);
    for (size_t k = 1; k < cap; k++) {
        p[k] = hl_alloc(a, n);
        CHECK(pool_base(p[k]) == pool_base(p[0]));
    }
    return cap;
}

/* A full pool leaves the class list; the block freed into it is the next
 * one handed out (held for the next allocation, test_held_block). */
static void test_full_pool_relink(void)
{
    hl_allocator a;
    open_pool(&a);
    const size_t n = 512;
    const unsigned idx = hl_pool_class_of(n);
    void *p[64];
    const size_t cap = fill_one_pool(&a, n, p);
    hl_pool_snapshot s = snap(&a);
    CHECK(s.pools_used == 1 && s.pools_full == 1 && s.carved_blocks[idx] == cap);
    void *extra = hl_alloc(&a, n);
    CHECK(pool_base(extra) != pool_base(p[0]));
    s = snap(&a);
    CHECK(s.pools_used == 2 && s.pools_full == 1);
    hl_free(&a, p[5], n);
    s = snap(&a);
    CHECK(s.pools_full == 0 && s.used_blocks[idx] == cap);
    void *back = hl_alloc(&a, n);
    CHECK(back == p[5]); /* the relinked pool is at the front */
    s = snap(&a);
    CHECK(s.pools_full == 1);
    void *next = hl_alloc(&a, n);
    CHECK(pool_base(next) == pool_base(extra));
    hl_free(&a, next, n);
    hl_free(&a, extra, n);
    for (size_t k = 0; k < cap; k++)
        hl_free(&a, p[k], n);
    s = snap(&a);
    CHECK(s.pools_used == 0 && s.pools_full == 0 && s.bytes_in_used_blocks == 0);
    hl_allocator_close(&a);
}

/* The held block (pool.c): a free that would give a pool its first free
 * block holds the block instead, for the next allocation of its class.
 * The block is handed out once, goes to its pool when a free into a pool
 * without free blocks comes first, is never the last block in use of its
 * pool (or the pool
 * would stay out of its arena), is filed under its pool's class, and the
 * snapshot does not count it in use. */
static void test_held_block(void)
{
    hl_allocator a;
    open_pool(&a);
    const size_t n = 512;
    const unsigned idx = hl_pool_class_of(n);
    void *p[64];
    const size_t cap = fill_one_pool(&a, n, p);
    void *extra = hl_alloc(&a, n); /* a second pool, its head */
    CHECK(pool_base(extra) != pool_base(p[0]));

    /* Held, then handed out once: the next allocation comes from the
     * second pool, not the held block again. */
    hl_free(&a, p[9], n);
    hl_pool_snapshot s = snap(&a);
    CHECK(s.used_blocks[idx] == cap && s.pools_full == 0 && s.bytes_in_used_blocks == cap * n);
    void *r1 = hl_alloc(&a, n);
    void *r2 = hl_alloc(&a, n);
    CHECK(r1 == p[9]);
    CHECK(r2 != p[9] && pool_base(r2) == pool_base(extra));
    s = snap(&a);
    CHECK(s.used_blocks[idx] == cap + 2 && s.pools_full == 1);
    hl_free(&a, r2, n);

    /* A free releases the held block to its pool first: two frees, then
     * three allocations, each block once (the third from the second pool). */
    hl_free(&a, p[3], n);
    hl_free(&a, p[4], n);
    s = snap(&a);
    CHECK(s.used_blocks[idx] == cap - 1);
    void *q1 = hl_alloc(&a, n);
    void *q2 = hl_alloc(&a, n);
    void *q3 = hl_alloc(&a, n);
    CHECK(q1 == p[4] && q2 == p[3]);
    CHECK(q3 != p[3] && q3 != p[4] && pool_base(q3) == pool_base(extra));
    hl_free(&a, q3, n);

    /* An allocation of another class gets none of it and leaves it held;
     * the next allocation of its class takes it, once. */
    hl_free(&a, p[7], n);
    void *other = hl_alloc(&a, 32);
    CHECK(other != p[7] && pool_base(other) != pool_base(p[0]));
    s = snap(&a);
    CHECK(s.used_blocks[idx] == cap && s.used_blocks[hl_pool_class_of(32)] == 1);
    void *back = hl_alloc(&a, n);
    void *after = hl_alloc(&a, n);
    CHECK(back == p[7] && after != p[7]);
    hl_free(&a, after, n);
    hl_free(&a, other, 32);

    /* A block shrunk in place is freed under a smaller class: it is not
     * held for that class, and the counts stay with the pool's class. */
    void *shrunk = hl_realloc(&a, p[11], n, 400);
    CHECK(shrunk == p[11]);
    hl_free(&a, shrunk, 400);
    s = snap(&a);
    CHECK(s.used_blocks[idx] == cap && s.used_blocks[hl_pool_class_of(400)] == 0);
    void *small = hl_alloc(&a, 400);
    CHECK(small != p[11] && pool_base(small) != pool_base(p[0]));
    hl_free(&a, small, 400);
    p[11] = hl_alloc(&a, n);

    /* A pool's last block in use is never held: the pool goes back to its
     * arena at once.  First a pool of one block, then one of two whose
     * first free is held and whose second releases and empties it. */
    hl_free(&a, extra, n);
    s = snap(&a);
    CHECK(s.pools_used == 1 && s.used_blocks[idx] == cap);
    void *z = hl_alloc(&a, 48);
    hl_free(&a, z, 48);
    s = snap(&a);
    CHECK(s.pools_used == 1 && s.used_blocks[hl_pool_class_of(48)] == 0);
    void *x = hl_alloc(&a, 48);
    void *y = hl_alloc(&a, 48);
    hl_free(&a, x, 48);
    hl_free(&a, y, 48);
    s = snap(&a);
    CHECK(s.pools_used == 1 && s.used_blocks[hl_pool_class_of(48)] == 0);
    for (size_t k = 0; k < cap; k++)
        hl_free(&a, p[k], n);
    s = snap(&a);
    CHECK(s.pools_used == 0 && total_used(&s) == 0 && s.bytes_in_used_blocks == 0);
    CHECK(s.arenas_mapped == 1);
    CHECK(s.pools_empty_in_arenas == HL_POOL_MAX_POOLS_PER_ARENA ||
          s.pools_empty_in_arenas == HL_POOL_MAX_POOLS_PER_ARENA - 1);
    hl_allocator_close(&a);
}

/* Fill several arenas, free everything in a scattered order: all but one
 * arena go back to the kernel, and /proc sees the memory leave. */
static void test_drain_returns_arenas(void)
{
    enum { MAX_BLOCKS = 120000, TARGET_ARENAS = 8 };
    void **ptr = malloc(MAX_BLOCKS * sizeof *ptr);
    size_t *len = malloc(MAX_BLOCKS * sizeof *len);
    CHECK(ptr != NULL && len != NULL);
    if (ptr == NULL || len == NULL) {
        free(ptr);
        free(len);
        return;
    }
    memset(ptr, 0, MAX_BLOCKS * sizeof *ptr); /* touch before measuring */
    memset(len, 0, MAX_BLOCKS * sizeof *len);

    hl_allocator a;
    open_pool(&a);
    rng_seed(42);
    size_t anon_base = anon_mapped_bytes();
    size_t count = 0;
    hl_pool_snapshot s = snap(&a);
    while (count < MAX_BLOCKS && s.arenas_mapped < TARGET_ARENAS) {
        size_t n = 1 + rng_below(HL_POOL_SMALL_MAX);
        void *p = hl_alloc(&a, n);
        CHECK(p != NULL);
        if (p == NULL)
            break;
        memset(p, 0x77, n); /* make it resident */
        ptr[count] = p;
        len[count] = n;
        count++;
        if (count % 256 == 0)
            s = snap(&a);
    }
    s = snap(&a);
    CHECK(s.arenas_mapped >= 5);
    size_t rss_full = rss_bytes();
    size_t anon_full = anon_mapped_bytes();
    size_t peak = s.arenas_peak;
    CHECK(anon_full >= anon_base + (peak - 1) * HL_POOL_ARENA_SIZE);

    for (size_t i = count; i > 1; i--) {
        size_t j = rng_below(i);
        void *tp = ptr[i - 1];
        size_t tl = len[i - 1];
        ptr[i - 1] = ptr[j];
        len[i - 1] = len[j];
        ptr[j] = tp;
        len[j] = tl;
    }
    for (size_t i = 0; i < count; i++)
        hl_free(&a, ptr[i], len[i]);

    s = snap(&a);
    size_t rss_drained = rss_bytes();
    size_t anon_drained = anon_mapped_bytes();
    size_t released = peak - s.arenas_mapped;
    CHECK(s.arenas_mapped <= 1);
    CHECK(s.arenas_unmapped_total == released);
    CHECK(s.pools_used == 0 && total_used(&s) == 0 && s.bytes_in_used_blocks == 0);
    CHECK(rss_full > rss_drained && rss_full - rss_drained >= 3 * MIB);
    CHECK(anon_full > anon_drained && anon_full - anon_drained >= released * HL_POOL_ARENA_SIZE - 64 * 1024);
    CHECK(anon_full - anon_drained <= released * HL_POOL_ARENA_SIZE + MIB);
    if (failures)
        printf("  drain: %zu blocks, peak %zu arenas, %zu left; rss %zu -> %zu KiB; anon %zu -> %zu KiB\n",
               count, peak, s.arenas_mapped, rss_full >> 10, rss_drained >> 10, anon_full >> 10,
               anon_drained >> 10);

    /* The kept arena serves the next allocation without a new mapping. */
    void *p = hl_alloc(&a, 64);
    s = snap(&a);
    CHECK(s.arenas_mapped == 1 && s.arenas_peak == peak);
    hl_free(&a, p, 64);
    hl_allocator_close(&a);
    free(ptr);
    free(len);
}

/* New pools come from the arena with the fewest free pools. */
static void test_arena_order(void)
{
    enum { MAX = 4 * 64 * 31 };
    static void *blk[MAX];
    static size_t arena_of_blk[MAX];
    hl_allocator a;
    open_pool(&a);
    const size_t n = 512;
    size_t count = 0, first = SIZE_MAX, second = SIZE_MAX, third = SIZE_MAX;
    while (count < MAX && third == SIZE_MAX) {
        void *p = hl_alloc(&a, n);
        size_t ai = arena_index(&a, p);
        CHECK(p != NULL && ai != SIZE_MAX);
        if (p == NULL)
            break;
        blk[count] = p;
        arena_of_blk[count] = ai;
        count++;
        if (first == SIZE_MAX)
            first = ai;
        else if (ai != first && second == SIZE_MAX)
            second = ai;
        else if (ai != first && ai != second)
            third = ai;
    }
    CHECK(third != SIZE_MAX);
    size_t i_first = 0, i_second = 0, i_third = count - 1;
    for (size_t i = 0; i < count; i++) {
        if (arena_of_blk[i] == first)
            i_first = i;
        if (arena_of_blk[i] == second)
            i_second = i;
    }
    CHECK(arena_nfree(&a, blk[i_first]) == 0 && arena_nfree(&a, blk[i_second]) == 0);

    /* Empty 40 pools of the first arena and 10 of the second, freeing the
     * blocks of each pool from its middle outwards.  Blocks come out in
     * pool order, each pool filled (to its colour's capacity) before the
     * next. */
    const unsigned idx = hl_pool_class_of(n);
    size_t emptied_first = 0, emptied_second = 0;
    for (size_t start = 0; start < count;) {
        size_t cap = capacity_of_pool(blk[start], idx);
        CHECK(cap % 7 != 0);
        if (start + cap > count)
            break;
        CHECK(pool_base(blk[start]) == pool_base(blk[start + cap - 1]));
        CHECK(start + cap == count || pool_base(blk[start + cap]) != pool_base(blk[start]));
        size_t ai = arena_of_blk[start];
        size_t *emptied = ai == first ? &emptied_first : ai == second ? &emptied_second : NULL;
        size_t want = ai == first ? 40 : 10;
        if (emptied != NULL && *emptied < want) {
            for (size_t k = 0; k < cap; k++) {
                size_t i = start + (k * 7) % cap; /* 7 is coprime with every capacity of 512 B */
                hl_free(&a, blk[i], n);
                blk[i] = NULL;
            }
            (*emptied)++;
        }
        start += cap;
    }
    CHECK(emptied_first == 40 && emptied_second == 10);
    CHECK(arena_nfree(&a, blk[i_first]) == 40);
    CHECK(arena_nfree(&a, blk[i_second]) == 10);
    unsigned nfree_third = arena_nfree(&a, blk[i_third]);
    CHECK(nfree_third >= 61);

    /* Ten new classes need ten pools: all from the second (fullest) arena;
     * the eleventh comes from the first, not the emptier third. */
    void *fresh[11];
    for (unsigned k = 0; k < 11; k++) {
        fresh[k] = hl_alloc(&a, hl_pool_class_size(k));
        CHECK(fresh[k] != NULL);
        CHECK(arena_index(&a, fresh[k]) == (k < 10 ? second : first));
    }
    CHECK(arena_nfree(&a, blk[i_first]) == 39);
    CHECK(arena_nfree(&a, blk[i_third]) == nfree_third);
    for (unsigned k = 0; k < 11; k++)
        hl_free(&a, fresh[k], hl_pool_class_size(k));
    for (size_t i = 0; i < count; i++)
        if (blk[i] != NULL)
            hl_free(&a, blk[i], n);
    hl_pool_snapshot s = snap(&a);
    CHECK(s.pools_used == 0 && s.arenas_mapped <= 1);
    hl_allocator_close(&a);
}

/* realloc stays in place within the block's class while it saves < 25%,
 * moves otherwise, and keeps the contents across pools and the fallback. */
static void test_realloc(void)
{
    hl_allocator a;
    open_pool(&a);
    void *p = hl_alloc(&a, 100);
    pattern_fill(p, 100, 1);
    void *q = hl_realloc(&a, p, 100, 110); /* same class (112) */
    CHECK(q == p);
    q = hl_realloc(&a, q, 110, 90); /* 96 of 112: saves 14% */
    CHECK(q == p && pattern_ok(q, 90, 1));
    q = hl_realloc(&a, q, 90, 112); /* back up within the block */
    CHECK(q == p && pattern_ok(q, 90, 1));
    pattern_fill(q, 112, 2);
    void *m = hl_realloc(&a, q, 112, 200); /* grows past the class */
    CHECK(m != p && pattern_ok(m, 112, 2));
    hl_pool_snapshot s = snap(&a);
    CHECK(s.used_blocks[hl_pool_class_of(100)] == 0 && s.used_blocks[hl_pool_class_of(200)] == 1);
    q = hl_realloc(&a, m, 200, 160); /* 160 of 208: saves 23% */
    CHECK(q == m);
    q = hl_realloc(&a, q, 160, 100); /* 112 of 208: saves 46% */
    CHECK(q != m && pattern_ok(q, 100, 2));
    hl_free(&a, q, 100);

    p = hl_alloc(&a, 512);
    pattern_fill(p, 512, 3);
    q = hl_realloc(&a, p, 512, 400); /* 400 of 512: saves 21.9% */
    CHECK(q == p);
    q = hl_realloc(&a, q, 400, 384); /* 384 of 512: saves exactly 25% */
    CHECK(q != p && pattern_ok(q, 384, 3));

    /* pool -> fallback -> fallback -> pool -> fallback (size 0). */
    m = hl_realloc(&a, q, 384, 1000);
    CHECK(m != NULL && aligned(m) && pattern_ok(m, 384, 3));
    s = snap(&a);
    CHECK(s.fallback_live_blocks == 1 && s.fallback_live_bytes == 1000 && total_used(&s) == 0);
    pattern_fill(m, 1000, 4);
    m = hl_realloc(&a, m, 1000, 5000);
    CHECK(m != NULL && pattern_ok(m, 1000, 4));
    s = snap(&a);
    CHECK(s.fallback_live_blocks == 1 && s.fallback_live_bytes == 5000);
    q = hl_realloc(&a, m, 5000, 64);
    CHECK(q != NULL && pattern_ok(q, 64, 4) && arena_index(&a, q) != SIZE_MAX);
    s = snap(&a);
    CHECK(s.fallback_live_blocks == 0 && s.fallback_live_bytes == 0 && total_used(&s) == 1);
    m = hl_realloc(&a, q, 64, 0);
    CHECK(m != NULL && arena_index(&a, m) == SIZE_MAX);
    s = snap(&a);
    CHECK(s.fallback_live_blocks == 1 && s.fallback_live_bytes == 0 && total_used(&s) == 0);
    hl_free(&a, m, 0);

    p = hl_realloc(&a, NULL, 0, 48); /* NULL acts as alloc */
    CHECK(p != NULL && arena_index(&a, p) != SIZE_MAX);
    hl_free(&a, p, 48);
    s = snap(&a);
    CHECK(total_used(&s) == 0 && s.bytes_in_used_blocks == 0 && s.fallback_live_blocks == 0);
    hl_allocator_close(&a);
}

/* The method table's fixed fields, stats, and two instances side by side. */
static void test_ops_and_instances(void)
{
    const hl_allocator_ops *ops = hl_pool_allocator();
    CHECK(strcmp(ops->name, "pool") == 0);
    CHECK((ops->flags & HL_ALLOC_THREAD_SAFE) == 0 && ops->preload == NULL);
    CHECK(ops->unavailable != NULL && ops->unavailable() == NULL);
    char version[128] = "", why[128] = "";
    CHECK(ops->identify(version, sizeof version, why, sizeof why) == 0);
    CHECK(strstr(version, "heaplab-pool") != NULL);

    hl_allocator a, b;
    open_pool(&a);
    open_pool(&b);
    void *pa = hl_alloc(&a, 32);
    void *pb = hl_alloc(&b, 32);
    void *fb = hl_alloc(&b, 2000);
    CHECK(arena_index(&a, pa) != SIZE_MAX && arena_index(&a, pb) == SIZE_MAX);
    CHECK(arena_index(&b, pb) != SIZE_MAX && arena_index(&b, pa) == SIZE_MAX);
    hl_pool_snapshot sa = snap(&a), sb = snap(&b);
    CHECK(total_used(&sa) == 1 && total_used(&sb) == 1);
    CHECK(sa.fallback_live_blocks == 0 && sb.fallback_live_bytes == 2000);

    hl_stats st;
    memset(&st, 0, sizeof st);
    ops->stats(b.ctx, &st);
    CHECK(hl_stats_get(&st, "arenas_mapped", -1) == 1);
    CHECK(hl_stats_get(&st, "arenas_peak", -1) == 1);
    CHECK(hl_stats_get(&st, "arenas_unmapped", -1) == 0);
    CHECK(hl_stats_get(&st, "pools_used", -1) == 1);
    CHECK(hl_stats_get(&st, "bytes_in_used_blocks", -1) == 32);
    CHECK(hl_stats_get(&st, "mapped_bytes", -1) == (double)HL_POOL_ARENA_SIZE);
    CHECK(hl_stats_get(&st, "fallback_live_bytes", -1) == 2000);
    CHECK(hl_stats_get(&st, "fallback_live_blocks", -1) == 1);
    CHECK(hl_pool_inspect(NULL, &sa) != 0);
    CHECK(hl_pool_arena_of(a.ctx, &st, NULL, NULL) == -1);

    hl_free(&a, pa, 32);
    hl_free(&b, pb, 32);
    hl_free(&b, fb, 2000);
    hl_allocator_close(&a);
    hl_allocator_close(&b);
}

/* The first small allocation costs about a page of pool and a page or two
 * of metadata in RSS, not a pool's 16 KiB, a 64 KiB descriptor chunk or
 * the 1 MiB arena: nothing is touched before it is needed. */
static void test_first_allocation_rss(void)
{
    /* Warm up: fault in this path's code, stack and the reader's buffer. */
    hl_allocator w;
    open_pool(&w);
    void *wp = hl_alloc(&w, 16);
    hl_free(&w, wp, 16);
    hl_allocator_close(&w);
    size_t before = anon_resident_bytes();
    CHECK(before > 0);

    hl_allocator a;
    open_pool(&a);
    char *p = hl_alloc(&a, 16);
    CHECK(p != NULL);
    if (p != NULL)
        memset(p, 0x5a, 16);
    size_t after = anon_resident_bytes();
    hl_pool_snapshot s = snap(&a);
    CHECK(after >= before && after - before <= 20 * 1024);
    CHECK(s.mapped_bytes == HL_POOL_ARENA_SIZE);
    CHECK(s.resident_bytes > 0 && s.resident_bytes <= 20 * 1024);
    if (failures)
        printf("  first 16 B allocation: anonymous RSS %zu -> %zu KiB (+%zu B); pool resident "
               "%lld B of %zu mapped\n", before >> 10, after >> 10, after - before,
               s.resident_bytes, s.mapped_bytes);
    hl_free(&a, p, 16);
    hl_allocator_close(&a);
}

/* The pool's own view of external waste is resident bytes, comparable with
 * jemalloc's stats.resident: an arena with one pool in use costs that
 * pool's pages, not its 1 MiB of address space. */
static void test_resident_stats(void)
{
    hl_allocator a;
    open_pool(&a);
    unsigned idx = hl_pool_class_of(64);
    /* Fill exactly one pool of 64 B blocks, writing every block. */
    enum { MAX = 1024 };
    static void *blocks[MAX];
    size_t n = 0;
    for (; n < MAX; n++) {
        blocks[n] = hl_alloc(&a, 64);
        memset(blocks[n], 0x33, 64);
        if (snap(&a).pools_full == 1)
            break;
    }
    n++;
    hl_pool_snapshot s = snap(&a);
    CHECK(s.pools_used == 1 && s.used_blocks[idx] == n);
    hl_stats st;
    memset(&st, 0, sizeof st);
    st.has_requested_live = 1;
    st.requested_live = (double)(n * 64);
    hl_pool_allocator()->stats(a.ctx, &st);
    double mapped = hl_stats_get(&st, "mapped_bytes", -1);
    double resident = hl_stats_get(&st, "resident_bytes", -1);
    double external = hl_stats_get(&st, "external_waste_bytes", -1);
    CHECK(mapped == (double)HL_POOL_ARENA_SIZE);
    /* One pool and the metadata pages, at most. */
    CHECK(resident >= (double)(n * 64) && resident <= (double)(HL_POOL_SIZE + 3 * 4096));
    CHECK(external == resident - (double)(n * 64));
    CHECK(external < (double)(HL_POOL_SIZE));
    if (failures)
        printf("  one full pool: mapped %.0f, resident %.0f, external waste %.0f B\n", mapped,
               resident, external);
    for (size_t i = 0; i < n; i++)
        hl_free(&a, blocks[i], 64);
    hl_allocator_close(&a);
}

/* A seeded random mix of alloc, free and realloc over small, zero and large
 * sizes; every block carries its own pattern, checked before it is freed or
 * resized, and the snapshot agrees with the live set along the way. */
static void test_random(void)
{
    enum { SLOTS = 4096, OPS = 200000 };
    static void *ptr[SLOTS];
    static size_t len[SLOTS];
    static uint32_t seed[SLOTS];
    hl_allocator a;
    open_pool(&a);
    rng_seed(20240611);
    uint32_t next_seed = 1;
    size_t bad_pattern = 0, bad_align = 0, failed = 0, inplace = 0;

    for (size_t op = 0; op < OPS; op++) {
        size_t i = rng_below(SLOTS);
        size_t r = rng_below(100);
        size_t n = r < 85 ? 1 + rng_below(HL_POOL_SMALL_MAX) : r < 90 ? 0 : 513 + rng_below(8000);
        if (ptr[i] == NULL) {
            void *p = hl_alloc(&a, n);
            if (p == NULL) {
                failed++;
                continue;
            }
            bad_align += !aligned(p);
            ptr[i] = p;
            len[i] = n;
            seed[i] = next_seed++;
            pattern_fill(p, n, seed[i]);
        } else if (rng_below(3) == 0) {
            size_t keep = len[i] < n ? len[i] : n;
            void *p = hl_realloc(&a, ptr[i], len[i], n);
            if (p == NULL) {
                failed++;
                continue;
            }
            inplace += p == ptr[i];
            bad_align += !aligned(p);
            bad_pattern += !pattern_ok(p, keep, seed[i]);
            ptr[i] = p;
            len[i] = n;
            seed[i] = next_seed++;
            pattern_fill(p, n, seed[i]);
        } else {
            bad_pattern += !pattern_ok(ptr[i], len[i], seed[i]);
            hl_free(&a, ptr[i], len[i]);
            ptr[i] = NULL;
        }
        if (op % 25000 == 24999) {
            hl_pool_snapshot s = snap(&a);
            size_t small = 0, small_bytes = 0, big = 0, big_bytes = 0, located = 0;
            for (size_t k = 0; k < SLOTS; k++) {
                if (ptr[k] == NULL)
                    continue;
                if (len[k] >= 1 && len[k] <= HL_POOL_SMALL_MAX) {
                    small++;
                    small_bytes += hl_pool_class_size(hl_pool_class_of(len[k]));
                    located += arena_index(&a, ptr[k]) != SIZE_MAX;
                } else {
                    big++;
                    big_bytes += len[k];
                }
            }
            CHECK(total_used(&s) == small && located == small);
            CHECK(s.bytes_in_used_blocks >= small_bytes); /* in-place shrinks keep the larger class */
            CHECK(s.fallback_live_blocks == big && s.fallback_live_bytes == big_bytes);
            for (unsigned c = 0; c < HL_POOL_NCLASSES; c++)
                CHECK(s.carved_blocks[c] >= s.used_blocks[c]);
            CHECK(s.pools_used + s.pools_empty_in_arenas <= s.arenas_mapped * HL_POOL_MAX_POOLS_PER_ARENA);
            CHECK(s.mapped_bytes == s.arenas_mapped * HL_POOL_ARENA_SIZE);
        }
    }
    CHECK(bad_pattern == 0 && bad_align == 0 && failed == 0);
    CHECK(inplace > 0);
    for (size_t k = 0; k < SLOTS; k++) {
        if (ptr[k] == NULL)
            continue;
        CHECK(pattern_ok(ptr[k], len[k], seed[k]));
        hl_free(&a, ptr[k], len[k]);
        ptr[k] = NULL;
    }
    hl_pool_snapshot s = snap(&a);
    CHECK(s.bytes_in_used_blocks == 0 && total_used(&s) == 0);
    CHECK(s.pools_used == 0 && s.pools_full == 0);
    CHECK(s.fallback_live_blocks == 0 && s.fallback_live_bytes == 0);
    CHECK(s.arenas_mapped <= 1);
    CHECK(s.arenas_mapped == 0 || s.pools_empty_in_arenas >= HL_POOL_MAX_POOLS_PER_ARENA - 1);
    hl_allocator_close(&a);
}

int main(void)
{
    /* A FAIL line printed before a crash (a layout bug that smashes a
     * header, say) must not die in the buffer. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_size_classes();
    test_colour_layout();
    test_colour_gap_used();
    test_lazy_carving();
    test_full_pool_relink();
    test_held_block();
    test_drain_returns_arenas();
    test_arena_order();
    test_realloc();
    test_ops_and_instances();
    test_random();
    test_first_allocation_rss();
    test_resident_stats();
    if (failures != 0) {
        printf("test_pool: %d of %d checks failed\n", failures, checks);
        return 1;
    }
    printf("test_pool: all %d checks passed\n", checks);
    return 0;
}
