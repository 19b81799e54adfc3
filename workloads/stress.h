/*
 * stress.h - what the stress workload's two engines share; private to
 * workloads/stress*.c.
 *
 * The workload (stress.c) is one name with two test engines behind it,
 * chosen by variant: the block engine (stress_blocks.c: alloc, threads)
 * drives raw blocks over an allocator, the graph engine (stress_graph.c:
 * graph) drives objects under a collector.  They share the parameters and
 * variants, the table of what a run counts, the cookie pattern every block
 * and object is filled with and checked against, the fault notes, and how
 * a finished run reports.
 */
#ifndef HEAPLAB_STRESS_H
#define HEAPLAB_STRESS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "workloads/rng.h"
#include "workloads/workload.h"

/* Indexes of cfg->params (stress.c's parameter table). */
enum { STRESS_OPS, STRESS_SLOTS, STRESS_MAX_SIZE, STRESS_THREADS };

/* Indexes of cfg->variant: STRESS_GRAPH runs the graph engine, the other
 * two the block engine. */
enum { STRESS_ALLOC, STRESS_GRAPH, STRESS_HANDOFF };

/* ------------------------------------------------------------ counters -- */

#define STRESS_IN(v) (1u << (v))
#define STRESS_BLOCKS (STRESS_IN(STRESS_ALLOC) | STRESS_IN(STRESS_HANDOFF))

/* What a run counts, and in which variants it reports each figure. */
#define STRESS_COUNTERS(X)                                                               \
    X(CHECKED, "checked", "blocks", STRESS_BLOCKS | STRESS_IN(STRESS_GRAPH))              \
    X(ALLOC, "ops_alloc", "ops", STRESS_BLOCKS)                                          \
    X(FREE, "ops_free", "ops", STRESS_BLOCKS)                                            \
    X(REALLOC, "ops_realloc", "ops", STRESS_BLOCKS)                                      \
    X(VERIFY, "ops_verify", "ops", STRESS_BLOCKS | STRESS_IN(STRESS_GRAPH))              \
    X(HANDOFF, "ops_handoff", "ops", STRESS_IN(STRESS_HANDOFF))                          \
    X(RECEIVE, "ops_receive", "ops", STRESS_IN(STRESS_HANDOFF))                          \
    X(RECEIVED, "received", "blocks", STRESS_IN(STRESS_HANDOFF))                         \
    X(NEW, "ops_new", "ops", STRESS_IN(STRESS_GRAPH))                                    \
    X(RETAIN, "ops_retain", "ops", STRESS_IN(STRESS_GRAPH))                              \
    X(DROP, "ops_drop", "ops", STRESS_IN(STRESS_GRAPH))                                  \
    X(STORE, "ops_store", "ops", STRESS_IN(STRESS_GRAPH))                                \
    X(CHILD, "ops_child", "ops", STRESS_IN(STRESS_GRAPH))                                \
    X(WEAK_NEW, "ops_weak_new", "ops", STRESS_IN(STRESS_GRAPH))                          \
    X(WEAK_DROP, "ops_weak_drop", "ops", STRESS_IN(STRESS_GRAPH))                        \
    X(WEAK_CHECK, "ops_weak_check", "ops", STRESS_IN(STRESS_GRAPH))                      \
    X(COLLECT, "ops_collect", "ops", STRESS_IN(STRESS_GRAPH))                            \
    X(UNREACHABLE, "unreachable", "objects", STRESS_IN(STRESS_GRAPH))                    \
    X(WEAK_ALIVE, "weak_alive", "objects", STRESS_IN(STRESS_GRAPH))

#define STRESS_ENUM(id, name, unit, variants) SC_##id,
enum stress_counter { STRESS_COUNTERS(STRESS_ENUM) SC_COUNT };
#undef STRESS_ENUM

/* ------------------------------------------------------------- cookies -- */

#define STRESS_GOLDEN 0x9e3779b97f4a7c15ull

static inline uint64_t stress_cookie(uint64_t seed, uint64_t a, uint64_t b)
{
    return hl_mix64(seed ^ hl_mix64(b ^ hl_mix64(a)));
}

/* Word k of the pattern of `cookie`. */
static inline uint64_t stress_word(uint64_t cookie, size_t k)
{
    return cookie + (uint64_t)k * STRESS_GOLDEN;
}

static inline unsigned stress_expected_byte(uint64_t cookie, size_t i)
{
    uint64_t w = stress_word(cookie, i >> 3);
    unsigned char b[8];
    memcpy(b, &w, 8);
    return b[i & 7];
}

/* Write the pattern of `cookie` over p[0..len).  Cost: O(len). */
static inline void stress_fill(unsigned char *p, size_t len, uint64_t cookie)
{
    size_t words = len >> 3, k;
    for (k = 0; k < words; k++) {
        uint64_t w = stress_word(cookie, k);
        memcpy(p + 8 * k, &w, 8);
    }
    if (len & 7) {
        uint64_t w = stress_word(cookie, k);
        memcpy(p + 8 * k, &w, len & 7);
    }
}

/* Check p[0..len) against the pattern of `cookie`.  Returns SIZE_MAX when
 * every byte matches, with a fold of what was read in *fold; else the
 * offset of the first wrong byte.  Cost: O(len). */
static inline size_t stress_check(const unsigned char *p, size_t len, uint64_t cookie, uint64_t *fold)
{
    size_t words = len >> 3, k;
    uint64_t acc = len, w;
    for (k = 0; k < words; k++) {
        memcpy(&w, p + 8 * k, 8);
        if (__builtin_expect(w != stress_word(cookie, k), 0))
            goto bad;
        acc += w;
    }
    if (len & 7) {
        uint64_t e = stress_word(cookie, k);
        w = 0;
        memcpy(&w, p + 8 * k, len & 7);
        if (memcmp(&w, &e, len & 7) != 0)
            goto bad;
        acc += w;
    }
    *fold = acc;
    return SIZE_MAX;
bad:
    for (size_t i = 8 * k; i < len; i++)
        if (p[i] != stress_expected_byte(cookie, i))
            return i;
    /* Not reached, unless the bytes changed between the two reads (a
     * racing writer): then report the block intact, with a defined fold. */
    *fold = acc;
    return SIZE_MAX;
}

/* -------------------------------------------------------------- faults -- */

/* Corrupted blocks found: how many, and a description of the first. */
typedef struct stress_fault {
    uint64_t count;
    char first[192];
} stress_fault;

/* Count one corrupted block or object in f; the first one's description
 * (printf-style) is kept, the others only counted.  O(1). */
__attribute__((format(printf, 2, 3))) void hl_stress_fault_note(stress_fault *f,
                                                                const char *fmt, ...);

static inline uint64_t stress_fold(uint64_t h, uint64_t v)
{
    return (h ^ v) * 0x100000001b3ull;
}

/* ------------------------------------------------------------- engines -- */

/* Add a finished run's figures to res: `errors` (in `noun`s, plural), then
 * each counter the variant reports, in table order.  Returns 0, or -1 with
 * err saying how many corrupted `noun`s were found and the first. */
int hl_stress_report(hl_workload_result *res, unsigned variant, const uint64_t count[SC_COUNT],
                     const stress_fault *fault, const char *noun, hl_error *err);

typedef struct stress_blocks stress_blocks;
typedef struct stress_graph stress_graph;

/* The block engine (stress_blocks.c): setup makes *state a stress_blocks
 * (set as soon as there is one: finish then releases it whatever setup
 * returned); step runs the next n ops; finish checks and frees what is
 * left, reports and releases the state.  Each returns 0 or -1 with err
 * set. */
int hl_stress_blocks_setup(const hl_workload_config *cfg, void **state, hl_error *err);
int hl_stress_blocks_step(stress_blocks *b, uint64_t n, hl_error *err);
int hl_stress_blocks_finish(stress_blocks *b, hl_workload_result *res, hl_error *err);

/* The graph engine (stress_graph.c), with the same contract. */
int hl_stress_graph_setup(const hl_workload_config *cfg, void **state, hl_error *err);
int hl_stress_graph_step(stress_graph *g, uint64_t n, hl_error *err);
int hl_stress_graph_finish(stress_graph *g, hl_workload_result *res, hl_error *err);

#endif
