/*
 * ring.c - `--workload=ring`: a bounded ring buffer of preallocated
 * messages against one allocation per message.
 *
 * The lesson: a producer/consumer queue that allocates a fresh object per
 * message pays an allocation and a death for every message; a ring buffer of
 * `capacity` message objects allocated once and reused pays neither, and its
 * memory is fixed.  (In Python: a preallocated list of bytearrays or a
 * collections.deque(maxlen=...) of reused buffers instead of a new object per
 * message.)
 *
 * The model: a producer and a consumer on one thread take turns in bursts.
 * Each producer burst has a seeded length in [1, capacity], cut short when
 * the queue is full; each consumer burst a seeded length in [1, capacity],
 * cut short when the queue is empty.  So the queue depth wanders between 0
 * and `capacity`.  A message is a sequence number, a seeded payload of
 * 64-256 bytes (8-32 words) and a check word (the sum of the payload):
 *
 *     data: | seq | nwords | payload[nwords] | check |
 *
 * The consumer checks the sequence number (nothing lost, nothing
 * reordered) and the check word against the sum of the payload it reads
 * (any one word changed is caught), and folds the message (sum and xor of
 * its words) into the checksum.  One op = one message through the queue
 * (produced and consumed).
 *
 * Variants:
 *   ring   `capacity` message objects of the largest size are allocated in
 *          setup; the producer writes into the next free slot, the consumer
 *          reads it in place.  0 allocations per message.
 *   alloc  the queue holds references; the producer allocates each message
 *          at its exact size, the consumer drops it after reading (free
 *          under manual, release otherwise).  1 allocation per message.
 * Both variants draw the same numbers in the same order, so they send the
 * same messages and end with the same checksum.
 *
 * Figures: max_queue_depth (messages), allocs_per_message (objects the
 * collector allocated after setup / messages: 0 and 1), messages.
 *
 * Default collector: refcount, CPython's own (a dropped message dies at
 * once); every collector runs it.
 * Parameters: messages (ops per run), capacity; seed from --seed.
 */
#include "workloads/rng.h"
#include "workloads/workload.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum { RING_MESSAGES, RING_CAPACITY };

static const hl_param_spec ring_params[] = {
    [RING_MESSAGES] = {"messages", "messages through the queue per run", 10000000, 200000, 1,
                       INT64_C(1000000000000)},
    [RING_CAPACITY] = {"capacity", "queue capacity (messages); the ring preallocates this many",
                       1024, 1024, 1, 1 << 24},
};

enum { RING_RING, RING_ALLOC };

static const hl_variant_spec ring_variants[] = {
    [RING_RING] = {"ring", "capacity messages preallocated and reused: no allocation per message"},
    [RING_ALLOC] = {"alloc", "one object allocated per message and dropped once consumed"},
};

static const hl_type ring_message_type = {.name = "message"};

#define RING_MIN_WORDS 8u  /* 64 bytes of payload */
#define RING_MAX_WORDS 32u /* 256 bytes */
/* Words besides the payload: seq, nwords, check. */
#define RING_HEADER_WORDS 3u

typedef struct ring {
    const hl_gc *gc;
    int manual;
    int preallocated;    /* variant ring */
    hl_object **queue;   /* capacity entries; slot i holds a message object or NULL */
    uint32_t capacity;
    uint32_t head;       /* the oldest message */
    uint32_t depth;      /* messages queued */
    uint32_t max_depth;
    int producing;       /* whose burst it is */
    uint32_t burst_left; /* of the current burst */
    uint64_t produced, consumed;
    uint64_t limit;      /* messages the producer may send in all */
    uint64_t allocated_at_start; /* the collector's objects_allocated after setup */
    uint64_t checksum;
    hl_rng rng;
} ring;

static uint64_t ring_ops(const hl_workload_config *cfg)
{
    return (uint64_t)cfg->params[RING_MESSAGES];
}

/* Objects the collector has allocated so far.  Statistics have no inline
 * helper in collector.h, so this is the one place the workload reads the
 * method table. */
static uint64_t ring_objects_allocated(const hl_gc *gc)
{
    hl_gc_stats s;
    memset(&s, 0, sizeof s);
    gc->ops->stats(gc->ctx, &s);
    return s.objects_allocated;
}

static inline uint32_t ring_data_size(uint32_t nwords)
{
    return (nwords + RING_HEADER_WORDS) * (uint32_t)sizeof(uint64_t);
}

/* Drop a message object the workload holds. */
static inline void ring_drop(ring *r, hl_object *o)
{
    if (r->manual)
        hl_free_object(r->gc, o);
    else
        hl_release(r->gc, o);
}

/* The next message into the tail slot.  One draw: its high half picks the
 * payload length, and the payload is the Weyl sequence draw + i * phi
 * (cheap to write, so the queue's own cost is what the variants compare). */
static inline int ring_produce(ring *r, hl_error *err)
{
    uint64_t draw = hl_rng_next(&r->rng);
    uint32_t nwords = RING_MIN_WORDS +
                      hl_rng_below((uint32_t)(draw >> 32), RING_MAX_WORDS - RING_MIN_WORDS + 1);
    uint32_t slot = r->head + r->depth;
    if (slot >= r->capacity)
        slot -= r->capacity;
    hl_object *o = r->queue[slot];
    if (!r->preallocated) {
        o = hl_new(r->gc, &ring_message_type, 0, ring_data_size(nwords));
        if (__builtin_expect(o == NULL, 0))
            return hl_fail(err, "out of memory: message %" PRIu64 " could not be allocated",
                           r->produced);
        r->queue[slot] = o;
    }
    uint64_t *w = hl_object_data(o);
    uint64_t sum = 0;
    w[0] = r->produced;
    w[1] = nwords;
    for (uint32_t i = 0; i < nwords; i++) {
        uint64_t v = draw + i * 0x9e3779b97f4a7c15ull;
        w[2 + i] = v;
        sum += v;
    }
    w[2 + nwords] = sum;
    r->produced++;
    if (++r->depth > r->max_depth)
        r->max_depth = r->depth;
    return 0;
}

/* Read, check and fold the head message; drop it unless it is a ring slot. */
static inline int ring_consume(ring *r, hl_error *err)
{
    hl_object *o = r->queue[r->head];
    const uint64_t *w = hl_object_data(o);
    uint64_t seq = w[0], nwords = w[1];
    if (__builtin_expect(seq != r->consumed || nwords < RING_MIN_WORDS || nwords > RING_MAX_WORDS,
                         0))
        return hl_fail(err, "corrupted message %p: sequence %" PRIu64 " (expected %" PRIu64
                       "), %" PRIu64 " payload words", (void *)o, seq, r->consumed, nwords);
    uint64_t sum = 0, mix = 0;
    for (uint64_t i = 0; i < nwords; i++) {
        sum += w[2 + i];
        mix ^= w[2 + i];
    }
    if (__builtin_expect(sum != w[2 + nwords], 0))
        return hl_fail(err, "corrupted message %" PRIu64 ": payload sums to %016" PRIx64
                       ", check word %016" PRIx64, seq, sum, w[2 + nwords]);
    r->checksum = (r->checksum ^ seq ^ nwords ^ sum ^ hl_rotl64(mix, 17)) * 0x100000001b3ull;
    if (!r->preallocated) {
        ring_drop(r, o);
        r->queue[r->head] = NULL;
    }
    if (++r->head == r->capacity)
        r->head = 0;
    r->depth--;
    r->consumed++;
    return 0;
}

static void ring_free_state(ring *r)
{
    hl_untracked_free(r->queue, sizeof(hl_object *) * r->capacity);
    free(r);
}

static int ring_setup(const hl_workload_config *cfg, void **state, hl_error *err)
{
    ring *r = calloc(1, sizeof *r);
    if (r == NULL)
        return hl_fail(err, "out of memory for the ring state");
    r->gc = cfg->gc;
    r->manual = hl_gc_is_manual(cfg->gc);
    r->preallocated = cfg->variant == RING_RING;
    r->capacity = (uint32_t)cfg->params[RING_CAPACITY];
    r->limit = (uint64_t)cfg->params[RING_MESSAGES];
    r->producing = 0; /* the first turn draws the producer's burst */
    hl_rng_seed(&r->rng, cfg->seed);
    r->queue = hl_untracked_alloc(sizeof(hl_object *) * r->capacity);
    if (r->queue == NULL) {
        uint32_t capacity = r->capacity;
        free(r);
        return hl_fail(err, "out of memory for a queue of %u messages", capacity);
    }
    *state = r;
    if (r->preallocated) {
        for (uint32_t i = 0; i < r->capacity; i++) {
            r->queue[i] = hl_new(r->gc, &ring_message_type, 0, ring_data_size(RING_MAX_WORDS));
            if (r->queue[i] == NULL)
                return hl_fail(err, "out of memory: ring slot %u of %u", i, r->capacity);
        }
    }
    r->allocated_at_start = ring_objects_allocated(r->gc);
    return 0;
}

/* A burst length in [1, capacity]. */
static inline uint32_t ring_burst(ring *r)
{
    return 1 + hl_rng_below((uint32_t)(hl_rng_next(&r->rng) >> 32), r->capacity);
}

static int ring_step(void *state, uint64_t n, hl_error *err)
{
    ring *r = state;
    uint64_t target = r->consumed + n;
    if (target > r->limit)
        r->limit = target; /* asked for more than ops(): keep the producer going */
    while (r->consumed < target) {
        if (r->producing) {
            if (r->burst_left > 0 && r->depth < r->capacity && r->produced < r->limit) {
                if (ring_produce(r, err) != 0)
                    return -1;
                r->burst_left--;
            } else {
                r->producing = 0;
                r->burst_left = ring_burst(r);
            }
        } else {
            if (r->burst_left > 0 && r->depth > 0) {
                if (ring_consume(r, err) != 0)
                    return -1;
                r->burst_left--;
            } else {
                r->producing = 1;
                r->burst_left = ring_burst(r);
            }
        }
    }
    return 0;
}

static int ring_finish(void *state, hl_workload_result *res, hl_error *err)
{
    ring *r = state;
    int rc = 0;
    uint64_t messages = r->consumed;
    uint64_t allocated = ring_objects_allocated(r->gc) - r->allocated_at_start;
    /* A run cut short leaves messages queued: check them, then drop every
     * object the queue holds. */
    while (rc == 0 && r->depth > 0)
        rc = ring_consume(r, err);
    for (uint32_t i = 0; i < r->capacity; i++)
        if (r->queue[i] != NULL)
            ring_drop(r, r->queue[i]);
    hl_stats_add(&res->figures, "max_queue_depth", "messages", (double)r->max_depth);
    hl_stats_add(&res->figures, "messages", "messages", (double)messages);
    if (messages > 0)
        hl_stats_add(&res->figures, "allocs_per_message", "objects",
                     (double)allocated / (double)messages);
    res->ops = messages;
    res->checksum = r->checksum;
    ring_free_state(r);
    return rc;
}

static const hl_workload_ops ring_ops_table = {
    .name = "ring",
    .description = "producer/consumer queue: a ring of preallocated messages vs one "
                   "allocation per message; one op = one message",
    .default_collector = "refcount",
    .params = ring_params,
    .nparams = sizeof ring_params / sizeof ring_params[0],
    .variants = ring_variants,
    .nvariants = sizeof ring_variants / sizeof ring_variants[0],
    .flags = 0,
    .ops = ring_ops,
    .setup = ring_setup,
    .step = ring_step,
    .finish = ring_finish,
};

const hl_workload_ops *hl_ring_workload(void)
{
    return &ring_ops_table;
}
