/*
 * test_helpers.c - the helpers every layer shares, one copy each, against
 * values worked out independently of the code:
 *
 *   - the mixer (workloads/rng.h): splitmix64's first outputs from state 0
 *     are the published ones, hl_mix64 is one step of it, and hl_shuffle's
 *     order for a fixed state is pinned (a changed draw or a changed
 *     modulo reorders every --shuffle run);
 *   - the median (harness/stats.h): odd and even counts, unsorted input;
 *   - the traverse dispatch (collectors/collector.h): the default visits the
 *     non-NULL slots in order, a type's own traverse replaces it;
 *   - the clock (common/clock.h): never goes back (no timing assertion).
 */
#include <inttypes.h>
#include <string.h>

#include "collectors/collector.h"
#include "common/clock.h"
#include "harness/stats.h"
#include "tests/check.h"
#include "workloads/rng.h"

static void test_mixer(void)
{
    /* splitmix64 from state 0 (Vigna's reference splitmix64.c gives these). */
    static const uint64_t first[] = {UINT64_C(0xe220a8397b1dcdaf), UINT64_C(0x6e789e6aa1b965f4),
                                     UINT64_C(0x06c45d188009454f), UINT64_C(0xf88bb8a8724c81ec)};
    uint64_t state = 0;
    for (size_t i = 0; i < sizeof first / sizeof first[0]; i++) {
        uint64_t got = hl_splitmix64(&state);
        CHECK(got == first[i], "splitmix64 output %zu from seed 0 is 0x%016" PRIx64
              ", expected 0x%016" PRIx64, i, got, first[i]);
    }
    CHECK(hl_mix64(0) == first[0], "hl_mix64(0) is 0x%016" PRIx64 ", expected splitmix64's first",
          hl_mix64(0));

    /* Fisher-Yates over 0..9 from state 42, worked out by hand in Python. */
    static const size_t want[10] = {0, 9, 5, 8, 6, 4, 7, 2, 1, 3};
    size_t order[10];
    for (size_t i = 0; i < 10; i++)
        order[i] = i;
    uint64_t s = 42;
    hl_shuffle(order, 10, &s);
    for (size_t i = 0; i < 10; i++)
        CHECK(order[i] == want[i], "shuffle position %zu holds %zu, expected %zu", i, order[i],
              want[i]);
    CHECK(s == UINT64_C(0x8ff34785799e5ce7), "shuffle of 10 left state 0x%016" PRIx64
          ", expected 9 draws from 42", s);
}

static void test_median(void)
{
    double one[] = {7};
    double odd[] = {5, 1, 4, 2, 3};
    double even[] = {10, 40, 20, 30};
    CHECK(hl_median(one, 1) == 7, "median of {7}: %g", hl_median(one, 1));
    CHECK(hl_median(odd, 5) == 3, "median of {5,1,4,2,3}: %g", hl_median(odd, 5));
    CHECK(hl_median(even, 4) == 25, "median of {10,40,20,30}: %g (expected the mean of 20, 30)",
          hl_median(even, 4));
}

/* Records which slots a traverse visited, in order. */
typedef struct visits {
    size_t n;
    hl_object **field[8];
} visits;

static void record_visit(hl_object **field, void *arg)
{
    visits *v = arg;
    if (v->n < 8)
        v->field[v->n] = field;
    v->n++;
}

/* Visits only slot 1, whatever the others hold. */
static void second_slot_only(hl_object *o, hl_visit_fn visit, void *arg)
{
    visit(&o->refs[1], arg);
}

static void test_traverse(void)
{
    static const hl_type plain = {.name = "plain"};
    static const hl_type own = {.name = "own", .traverse = second_slot_only};
    /* An object with 3 slots, slot 1 NULL; what the slots point at is
     * never followed, so two stand-in targets will do. */
    _Alignas(hl_object) unsigned char buf[sizeof(hl_object) + 3 * sizeof(hl_object *)];
    _Alignas(hl_object) unsigned char targets[2][sizeof(hl_object)];
    memset(buf, 0, sizeof buf);
    hl_object *o = (hl_object *)buf;
    o->nrefs = 3;
    o->refs[0] = (hl_object *)targets[0];
    o->refs[2] = (hl_object *)targets[1];

    visits v = {0};
    o->type = &plain;
    hl_object_traverse(o, record_visit, &v);
    CHECK(v.n == 2 && v.field[0] == &o->refs[0] && v.field[1] == &o->refs[2],
          "default traverse visited %zu slots, expected slots 0 and 2", v.n);

    v = (visits){0};
    o->type = NULL; /* no type at all: the default too */
    hl_object_traverse(o, record_visit, &v);
    CHECK(v.n == 2, "untyped traverse visited %zu slots, expected 2", v.n);

    v = (visits){0};
    o->type = &own;
    hl_object_traverse(o, record_visit, &v);
    CHECK(v.n == 1 && v.field[0] == &o->refs[1],
          "own traverse: %zu visits, expected only slot 1 (the type's choice)", v.n);
}

static void test_clock(void)
{
    uint64_t prev = hl_now_ns();
    CHECK(prev > 0, "the monotonic clock reads 0");
    for (int i = 0; i < 1000; i++) {
        uint64_t now = hl_now_ns();
        CHECK(now >= prev, "the monotonic clock went back: %" PRIu64 " after %" PRIu64, now, prev);
        prev = now;
    }
}

int main(void)
{
    test_mixer();
    test_median();
    test_traverse();
    test_clock();
    return check_status("test_helpers");
}
