/*
 * rng.h - the seeded generator every workload draws from.
 *
 * xoshiro256** (Blackman and Vigna, 2018), seeded through splitmix64 so that
 * any 64-bit seed gives a well-mixed state.  Fast (about a nanosecond a
 * draw), small, and identical on every platform, so the same seed gives the
 * same allocation sequence under every strategy.
 *
 * splitmix64 (Steele, Lea and Flood, 2014) is also heaplab's one mixer:
 * hl_mix64 for cookies derived from an index, and hl_shuffle for a seeded
 * run order, which the harness may use (harness -> workloads is the
 * layering's direction).  tests/test_helpers.c pins its first outputs.
 */
#ifndef HEAPLAB_RNG_H
#define HEAPLAB_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct hl_rng {
    uint64_t s[4];
} hl_rng;

/* The next output of the splitmix64 stream whose state is *x (advanced by
 * one step).  Every 64-bit value is a valid state.  O(1). */
static inline uint64_t hl_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline void hl_rng_seed(hl_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = hl_splitmix64(&seed);
}

static inline uint64_t hl_rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t hl_rng_next(hl_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = hl_rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = hl_rotl64(s[3], 45);
    return result;
}

/* A value in [0, bound) from the top 32 bits of x (Lemire's multiply). */
static inline uint32_t hl_rng_below(uint32_t x, uint32_t bound)
{
    return (uint32_t)(((uint64_t)x * bound) >> 32);
}

/* A 64-bit mix of x, for cookies derived from an index. */
static inline uint64_t hl_mix64(uint64_t x)
{
    return hl_splitmix64(&x);
}

/* Put order[0..n) in a random order (Fisher-Yates, one splitmix64 draw
 * taken modulo the remaining count per position, n - 1 draws in all) from
 * the stream at *state, which advances.  The same state gives the same
 * order on every platform.  O(n). */
static inline void hl_shuffle(size_t *order, size_t n, uint64_t *state)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(hl_splitmix64(state) % i);
        size_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
}

#endif
