/*
 * tracing.c - `--collector=tracing`: Boehm-Demers-Weiser conservative
 * mark-sweep (Debian's libgc, bdw-gc 8.2) under heaplab's object model.
 *
 * What it models: a runtime whose objects die when nothing reaches them,
 * with no reference counts at all; the workload never frees.  Reachability
 * is Boehm's: a full, stop-the-world mark from the roots, then a lazy sweep
 * (blocks are swept as their size class needs memory, so most of the sweep
 * is paid inside later allocations, not inside the pause).  Source:
 * H. Boehm and M. Weiser, "Garbage Collection in an Uncooperative
 * Environment", SP&E 18(9), 1988; libgc's gc.h and gc_mark.h.
 *
 * Own heap.  Boehm allocates from its own heap, so this collector IGNORES
 * the allocator it is given (HL_GC_OWN_HEAP): `--allocator=` changes
 * nothing under it and the tracker sees no object.  Its figures come from
 * Boehm instead (own_heap_bytes, own_live_bytes below).  The heap is one per
 * process and cannot be shut down, so one instance is open at a time
 * (init answers -EBUSY otherwise) and fini can only collect: the pages stay
 * mapped, so a later instance in the same process starts on a grown heap
 * and may collect less often than the first.
 *
 * Heap limit (hl_gc_config.heap_limit, --heap-sweep): GC_set_max_heap_size
 * bounds Boehm's heap (the sections it got from the system, GC_get_heap_size;
 * page granularity).  An allocation the heap cannot hold without passing it
 * makes Boehm collect (GC_set_max_retries: a full collection before it gives
 * up, twice), and only then fail: a free list's refill comes back empty, or
 * GC_malloc_kind calls Boehm's out-of-memory function, which answers NULL
 * here (tracing_out_of_memory).  new_object returns NULL and the workload
 * fails with its own error, a failed row, not
 * an abort.  Boehm's "Out of Memory" warnings are silenced under a limit:
 * the failure is expected there, and the row says it.  A limit below the
 * heap Boehm already holds when the collector opens (its initial 64 KiB) is
 * refused (init answers -ENOMEM): the heap cannot shrink to it, so a
 * minimum heap is never reported below Boehm's initial heap.  Boehm's heap is one
 * per process, so the limit holds for the whole process (each sweep point is
 * a process of its own).
 *
 * Roots.  Workload references (new_object's, retain, release) are the
 * roots.  The workload keeps them in untracked mmap memory that Boehm never
 * scans, so each rooted object has a slot in a dense root table, and the
 * object's prefix holds its root count and slot index: retain and release
 * are O(1) without hashing, and an object leaves the table (swap with the
 * last slot) when its count reaches 0.  The table lives in untracked memory
 * too; a push-other-roots hook hands its used part to Boehm's marker at
 * every collection.  Boehm also scans the C stack and registers
 * conservatively, so a stale word there can keep garbage alive: that is
 * Boehm's nature, and part of what this strategy measures.
 *
 *       tracing_header (8 bytes)              one block of heaplab's kinds
 *     +--------------------------------------+ <- what Boehm sees (the base)
 *     | roots (31 bits) finalized (1) | slot |
 *     +--------------------------------------+ <- hl_object * (base + 8)
 *     | hl_object ...                        |
 *     +--------------------------------------+
 *
 * Eight bytes, not sixteen, because Boehm's mark and sweep cost grows with
 * heap bytes: a trees node (40-byte hl_object) is a 48-byte block, three
 * 16-byte granules, where a 16-byte prefix made it four.  hl_object is
 * 8-aligned here, as under refcount.  The count has 31 bits (a count that
 * reaches 2^31 - 1 sticks there: rooted for good), the finalized flag the
 * last bit of that word, the root-table slot the other word.
 *
 * Boehm is started as a language runtime with exact roots would start it:
 *   - interior-pointer recognition off, the displacement of hl_object inside
 *     its block registered: only a pointer to a block's start or to its
 *     hl_object keeps it alive (from the stack any interior pointer still
 *     does), and no byte is added at each block's end, so a 48-byte object
 *     takes a 48-byte granule, not 64;
 *   - shared libraries' data segments not scanned (GC_set_no_dls): no
 *     library holds a pointer into this heap, since every root is
 *     registered, and scanning libstdc++'s and Google Benchmark's data would
 *     add about 13 us of harness cost to every collection (21 us -> 8 us per
 *     empty GC_gcollect here).  On Linux Boehm finds the main program's
 *     data through the same walk of loaded objects, so that is not scanned
 *     either: a static variable keeps nothing alive (a test that needs one
 *     to must GC_add_roots it).
 *
 * Weak references.  A weak reference is an object of a private type (its
 * data is not weakref.h's hl_weak_data; the block is of the atomic kind,
 * never scanned) whose data holds the target pointer, registered as a
 * disappearing link, so Boehm zeroes it when the target is
 * found unreachable, before any finalizer runs.  A callback needs a
 * finalizer on the target (GC_register_finalizer_no_order); Boehm keeps one
 * finalizer per object, so the callbacks of one target chain through small
 * nodes, newest first, each naming its weak reference through a hidden
 * pointer that is itself a disappearing link: a weak reference that dies in
 * the same collection as its target gets no callback, as in CPython.  How
 * Boehm's ordering differs from CPython's: the callbacks run after the
 * collection, when collect() (or the next new_object, after an automatic
 * collection) invokes the queued finalizers, in no particular order between
 * targets (newest first within one); and a target with a callback, with
 * everything it reaches, survives one more collection (its finalizer needs
 * it), where CPython frees it at once.
 *
 * Finalizers (hl_type.finalize, PEP 442's tp_finalize, and legacy_del).
 * An object of a type that has either gets Boehm's finalizer at birth
 * (GC_register_finalizer_no_order; the weak reference callbacks above chain
 * on the same one).  When Boehm finds the object unreachable it clears the
 * weak links to it, keeps it and everything it reaches for one more
 * collection, and queues the finalizer: the callbacks run first, then the
 * type's finalize and legacy_del, flagged in the header so they run once in
 * the object's life.  Boehm unregisters a finalizer when it queues it, so an
 * object the finalizer resurrects (retained, or stored in a live object)
 * simply lives on, and dies silently later.  No order among a dead set's
 * finalizers, as PEP 442; Boehm's ordered finalization (which would leave
 * cycles of finalizable objects uncollected, like CPython's legacy rule) is
 * not used, so legacy_del makes nothing uncollectable here (marksweep.c
 * says why that is safe for a tracing collector).
 *
 * Allocation.  Objects come from two Boehm kinds of their own (GC_new_kind,
 * made once per process): atomic, never scanned and not cleared (objects
 * without reference slots, as GCBench's array of doubles, and weak
 * references), zeroed here by hl_object_init; and scanned, every word, as
 * GC_MALLOC's kind, cleared by Boehm.  Kinds of their own let the census
 * tell heaplab's blocks from Boehm's own (finalizer and link records) and
 * the weak reference nodes exactly.  Scanned blocks up to
 * TRACING_FREE_LISTS granules come from the instance's own free lists,
 * popped inline and refilled a block's worth at a time by
 * GC_generic_malloc_many: what GC_MALLOC's thread-local lists do, without
 * the call, the thread-local lookup and the size-class lookup per object
 * (the lists are roots, so Boehm keeps what they hold; a block there has a
 * link in its header word, which the census tells from a header, below).
 *
 * Instances.  Boehm's heap outlives an instance, and so may objects the
 * stack still seemed to reach when it closed, or dead ones Boehm has not
 * swept yet (a nearly full block is not swept until a later collection
 * frees more of it) that a stale word marks again later.  Such an object must count in no later
 * instance's census and run no finalizer or callback there.  An unrooted
 * object's slot therefore holds its instance's tag (TRACING_TAG_BIT | a
 * serial, 2^31 instances before one repeats), and a rooted one's slot is
 * checked against the root table: an object is the open instance's
 * exactly when its slot is that instance's tag, or a slot of that
 * instance's table that holds it (header_is_mine).  A block that never
 * held an object since its last sweep has a free-list link in that word:
 * an address, whose upper half never has the tag bit, so it fails both.
 *
 * What Boehm lets us measure:
 *   collections[0]      GC_get_gc_no() since init (one generation).
 *   pauses              every collection, automatic or explicit: Boehm's
 *                       GC_EVENT_START to GC_EVENT_END (the world-stopped
 *                       mark, the finalization bookkeeping, the eager
 *                       freeing of wholly empty blocks), plus the
 *                       finalizers and weak reference callbacks that
 *                       collection queued, run as soon as it returns.  NOT
 *                       in any pause: the lazy sweep of partly used blocks,
 *                       which Boehm does in later allocations, a size class
 *                       at a time (no public call forces it into the
 *                       collection); it is paid in the mutator's time.
 *   objects_allocated   counted here.
 *   objects_freed,      by a census: after a full collection, Boehm's mark
 *   collected[0]        bits name exactly the objects it kept, so stats()
 *                       enumerates them (GC_enumerate_reachable_objects_inner)
 *                       and freed = allocated - kept (objects a stale stack
 *                       word keeps count as kept: Boehm did not free them).
 *                       The census is taken only when no collection ran and
 *                       no object was allocated since the last collect();
 *                       otherwise the previous census stands, a lower bound.
 *                       It costs O(heap), once per such stats().
 *                       Finalizers on every object would count deaths as
 *                       they happen, but at a cost per object and one extra
 *                       collection of life for every object, so only the
 *                       objects whose type or weak references need one get
 *                       one.
 *   own_live_bytes      bytes (prefix included, granule rounding excluded)
 *                       of this instance's objects kept by that census; -1
 *                       when no current census exists.
 *   own_heap_bytes      GC_get_heap_size(): Boehm's mapped heap, free blocks
 *                       and fragmentation included, unmapped pages excluded.
 *   callbacks_run       counted here.
 *   weakrefs_cleared    NOT measured (Boehm zeroes links silently): 0.
 *
 * Tunables: Boehm's defaults (free-space divisor 3: a collection is due
 * when about heap/3 bytes were allocated since the last); TRACING_ROOTS_MIN
 * below.  Not thread-safe:
 * one thread drives the collector (Boehm's own marker threads are not
 * started).
 */
#include "collectors/collector.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <gc/gc.h>
#include <gc/gc_inline.h>
#include <gc/gc_mark.h>

#include "collectors/pauses.h"

/* ------------------------------------------------------------ layout -- */

/* The prefix of every object: 8 bytes, so a trees node (a 40-byte
 * hl_object) is a 48-byte block, three of Boehm's 16-byte granules; with
 * 16 bytes it took four.  hl_object is therefore 8-aligned here, as under
 * refcount (whose prefix is 8 bytes too). */
typedef struct tracing_header {
    uint32_t roots : 31;    /* workload references; > 0 exactly when on the root table;
                               saturates at TRACING_ROOTS_STUCK */
    uint32_t finalized : 1; /* its type's finalizers ran (at most once per object) */
    uint32_t slot;          /* index in the root table while roots > 0, else
                               the instance's tag (TRACING_TAG_BIT set) */
} tracing_header;

_Static_assert(sizeof(tracing_header) == 8, "a trees node must fit a 48-byte granule");
_Static_assert(sizeof(tracing_header) % _Alignof(hl_object) == 0, "hl_object must stay aligned");

/* A root count that reached 2^31 - 1 stays there: the object stays rooted
 * for good (a leak, never an early death).  No workload comes near it. */
#define TRACING_ROOTS_STUCK ((uint32_t)INT32_MAX)

/* Slots of the first root table (> 0); it doubles when full, up to
 * TRACING_ROOTS_MAX slots (a slot index never has TRACING_TAG_BIT). */
#define TRACING_ROOTS_MIN ((size_t)4096)
#define TRACING_ROOTS_MAX ((size_t)1 << 31)

/* Blocks up to this many granules of the scanned kind come from the
 * instance's own free lists (scanned_block); larger ones from Boehm's
 * GC_malloc_kind. */
#define TRACING_FREE_LISTS 16

/* Set in an instance's tag, never in a root-table slot. */
#define TRACING_TAG_BIT 0x80000000u

/* A weak reference's data.  The block is atomic, so `target` does not keep
 * its referent alive; it is a disappearing link. */
typedef struct tracing_weak {
    hl_object *target; /* NULL once the referent was found unreachable */
    hl_weak_callback cb;
    void *arg;
} tracing_weak;

/* One callback waiting on a target, in a chain (newest first) that is the
 * client data of the target's finalizer. */
typedef struct tracing_weak_node {
    struct tracing_weak_node *next;
    GC_hidden_pointer weakref; /* hidden header of the weak reference; 0 once it died */
} tracing_weak_node;

static const hl_type tracing_weakref_type = {.name = "weakref"};

static const hl_collector_ops tracing_ops; /* finalizers hand it to the type's */

typedef struct tracing {
    uint32_t tag;           /* TRACING_TAG_BIT | serial: unrooted objects' slot */
    tracing_header **roots; /* [0, nroots) rooted objects, untracked memory */
    size_t nroots, roots_cap;
    /* Blocks of the scanned kind taken from Boehm a batch at a time, by
     * size in granules (1..TRACING_FREE_LISTS), chained through their first
     * word: a root, so that Boehm keeps them (see scanned_block). */
    void *free_lists[TRACING_FREE_LISTS + 1];

    GC_word gc_no_at_init;
    uint64_t pause_start_ns; /* 0 outside a collection */
    /* A collection ended and its pause is not yet recorded: the finalizers
     * and weak reference callbacks it queued run first, and their time is
     * added (see tracing_run_finalizers). */
    int pause_open;
    double pause_open_ns;
    hl_pause_log pauses;

    uint64_t objects_allocated;
    uint64_t callbacks_run;

    /* The census (see the design comment). */
    GC_word collect_gc_no;        /* GC_get_gc_no() after the last collect() */
    uint64_t collect_allocated;   /* objects_allocated then */
    int census_current;           /* the census below describes that collection */
    uint64_t census_live_objects;
    uint64_t census_live_bytes;
    uint64_t census_freed;        /* objects freed as of the census */
} tracing;

/* Boehm's hooks are process-wide: they reach the open instance here, and
 * chain to the hooks that were set before it opened (fini restores them). */
static tracing *tracing_active;
static uint32_t tracing_serial; /* instances opened in this process, mod 2^31 */
static GC_on_collection_event_proc tracing_prev_event;
static GC_push_other_roots_proc tracing_prev_push;

static tracing_header *header_of(hl_object *o)
{
    return (tracing_header *)((char *)o - sizeof(tracing_header));
}

static hl_object *object_of(tracing_header *h)
{
    return (hl_object *)(h + 1);
}

static size_t block_size(const hl_object *o)
{
    return sizeof(tracing_header) + hl_object_size(o->nrefs, o->data_size);
}

/* Whether h, the start of a block of heaplab's kinds, is an object of
 * instance t: unrooted with t's tag, or rooted in t's table at its slot.
 * False for an earlier instance's object and for a block on a free list
 * (see the design comment).  O(1). */
static int header_is_mine(const tracing *t, const tracing_header *h)
{
    if (h->roots == 0)
        return h->slot == t->tag;
    return h->slot < t->nroots && t->roots[h->slot] == h;
}

/* --------------------------------------------------- Boehm's set-up -- */

static pthread_once_t tracing_once = PTHREAD_ONCE_INIT;

/* Boehm kinds of heaplab's objects, made once per process (Boehm's kinds
 * are few and never freed): blocks of these kinds are objects, and nothing
 * else is, so the census needs no tag in the header to tell them from
 * Boehm's own blocks (finalizer and link records) or the weak reference
 * nodes.  Scanned: every word, as GC_MALLOC's NORMAL kind, and cleared
 * when allocated.  Atomic: never scanned, not cleared, as PTRFREE. */
static int tracing_kind_scanned, tracing_kind_atomic;

/* Whether the block at base (its start, from Boehm's enumeration) is of
 * heaplab's kinds: an object, of some instance, or a block on a free list
 * (header_is_mine tells).  O(1). */
static int block_is_heaplab(const void *base)
{
    int kind = GC_get_kind_and_size(base, NULL);
    return kind == tracing_kind_scanned || kind == tracing_kind_atomic;
}

/* Start Boehm once per process: exact base and hl_object pointers only,
 * no scan of shared libraries' data (see the design comment), finalizers
 * run only when we ask; and make heaplab's two kinds.  A kind's descriptor
 * GC_DS_LENGTH with the size added scans the whole block; 0 bytes without
 * it is Boehm's mark of a pointer-free block. */
static void tracing_start_boehm(void)
{
    if (!GC_is_init_called()) {
        GC_set_all_interior_pointers(0);
        GC_set_no_dls(1);
    }
    GC_set_finalize_on_demand(1);
    GC_INIT();
    GC_register_displacement(sizeof(tracing_header));
    tracing_kind_scanned = (int)GC_new_kind(GC_new_free_list(), GC_DS_LENGTH, 1, 1);
    tracing_kind_atomic = (int)GC_new_kind(GC_new_free_list(), GC_DS_LENGTH, 0, 0);
}

/* Boehm's collection events: time each collection, automatic or not. */
static void GC_CALLBACK tracing_on_event(GC_EventType event)
{
    tracing *t = tracing_active;
    if (t != NULL) {
        if (event == GC_EVENT_START) {
            t->pause_start_ns = hl_now_ns();
        } else if (event == GC_EVENT_END && t->pause_start_ns != 0) {
            double ns = (double)(hl_now_ns() - t->pause_start_ns);
            if (t->pause_open) /* two collections in one allocation */
                hl_pause_record(&t->pauses, t->pause_open_ns);
            t->pause_open = 1;
            t->pause_open_ns = ns;
            t->pause_start_ns = 0;
        }
    }
    if (tracing_prev_event != NULL)
        tracing_prev_event(event);
}

/* Boehm's marker asks for extra roots: the used part of the root table,
 * and the free lists (a list's first block, which reaches the rest).
 * Runs with the allocation lock held and the world stopped. */
static void GC_CALLBACK tracing_push_roots(void)
{
    tracing *t = tracing_active;
    if (t != NULL && t->nroots > 0)
        GC_push_all(t->roots, t->roots + t->nroots);
    if (t != NULL)
        GC_push_all(t->free_lists, t->free_lists + TRACING_FREE_LISTS + 1);
    if (tracing_prev_push != NULL)
        tracing_prev_push(); /* the thread stacks, in threaded builds */
}

/* -------------------------------------------------------- root table -- */

/* Double the root table.  Returns 0 or -ENOMEM (the table unchanged).  No
 * collection can run between the copy and the switch: nothing allocates
 * from Boehm here. */
static int roots_grow(tracing *t)
{
    size_t cap = t->roots_cap ? t->roots_cap * 2 : TRACING_ROOTS_MIN;
    if (cap > TRACING_ROOTS_MAX)
        return -ENOMEM;
    tracing_header **slots = hl_untracked_alloc(cap * sizeof *slots);
    if (slots == NULL)
        return -ENOMEM;
    if (t->nroots > 0)
        memcpy(slots, t->roots, t->nroots * sizeof *slots);
    hl_untracked_free(t->roots, t->roots_cap * sizeof *slots);
    t->roots = slots;
    t->roots_cap = cap;
    return 0;
}

/* h's count went from 0 to 1: give it a slot.  Returns 0 or -ENOMEM. */
static int roots_add(tracing *t, tracing_header *h)
{
    if (t->nroots == t->roots_cap && roots_grow(t) != 0)
        return -ENOMEM;
    h->slot = (uint32_t)t->nroots;
    t->roots[t->nroots++] = h;
    return 0;
}

/* h's count reached 0: the last slot moves into its place, and h's slot
 * holds the instance's tag again. */
static void roots_remove(tracing *t, tracing_header *h)
{
    size_t i = h->slot;
    tracing_header *last = t->roots[--t->nroots];
    t->roots[i] = last;
    last->slot = (uint32_t)i;
    t->roots[t->nroots] = NULL;
    h->slot = t->tag; /* after the move: h may be `last` */
}

/* ----------------------------------------------------------- objects -- */

/* Queued finalizers (objects' finalizers and weak reference callbacks) run
 * here, outside Boehm's lock: right after the collection that queued them
 * returns (every allocation and collect() ends here).  Their time belongs to
 * that collection's pause, as under marksweep and cycle: the pause the event
 * hook left open is recorded now, with it.  Only a collection queues
 * finalizers, and every collection while the instance is open leaves its
 * pause open (Boehm reports each one, GC_EVENT_START to GC_EVENT_END), so
 * without an open pause there is nothing to run: one load, inline, on
 * every allocation.  Whatever an earlier instance left queued, its fini ran. */
static void tracing_run_finalizers_now(tracing *t);

static inline void tracing_run_finalizers(tracing *t)
{
    if (__builtin_expect(t->pause_open, 0))
        tracing_run_finalizers_now(t);
}

static void tracing_run_finalizers_now(tracing *t)
{
    /* Closed before the finalizers run: one that allocates comes back here
     * and must not record this pause a second time. */
    t->pause_open = 0;
    double ns = t->pause_open_ns;
    uint64_t start = hl_now_ns();
    if (GC_should_invoke_finalizers())
        GC_invoke_finalizers();
    hl_pause_record(&t->pauses, ns + (double)(hl_now_ns() - start));
}

/* A cleared block of the scanned kind of `size` bytes, its first word
 * (the free list's link) excepted: the caller writes the header there.
 * NULL when Boehm's heap cannot grow.  What Boehm's thread-local
 * allocation does inside GC_malloc, inline: pop the instance's list of
 * that size, refilled by GC_generic_malloc_many (a block's worth of
 * objects, and the collection policy of any Boehm allocation).  Cost: O(1)
 * but for a refill. */
static inline tracing_header *scanned_block(tracing *t, size_t size)
{
    size_t granules = (size + GC_GRANULE_BYTES - 1) / GC_GRANULE_BYTES;
    if (granules > TRACING_FREE_LISTS)
        return GC_malloc_kind(size, tracing_kind_scanned);
    void **list = &t->free_lists[granules];
    if (__builtin_expect(*list == NULL, 0)) {
        GC_generic_malloc_many(granules * GC_GRANULE_BYTES, tracing_kind_scanned, list);
        if (*list == NULL)
            return NULL;
    }
    void *block = *list;
    *list = *(void **)block;
    return block;
}

/* A new object of nrefs slots and data_size bytes, held by one root when
 * `rooted`.  `atomic`: a block Boehm never scans (objects without reference
 * slots, weak references), which Boehm does not clear, so hl_object_init
 * zeroes it; a scanned block comes cleared and only its header words are
 * written.  NULL when Boehm's heap or the root table cannot grow.  Cost:
 * Boehm's allocation, plus O(size) for an atomic block. */
static hl_object *tracing_alloc(tracing *t, const hl_type *type, uint32_t nrefs,
                                uint32_t data_size, int atomic, int rooted)
{
    size_t osize = hl_object_size(nrefs, data_size);
    size_t size = sizeof(tracing_header) + osize;
    tracing_header *h =
        atomic ? GC_malloc_kind(size, tracing_kind_atomic) : scanned_block(t, size);
    if (h == NULL)
        return NULL;
    *h = (tracing_header){.roots = rooted ? 1 : 0, .slot = t->tag};
    hl_object *o = object_of(h);
    if (atomic) {
        hl_object_init(o, osize, type, nrefs, data_size);
    } else {
        hl_object_header(o, type, nrefs, data_size);
    }
    if (rooted && roots_add(t, h) != 0)
        return NULL; /* unrooted: the next collection takes it back */
    t->objects_allocated++;
    return o;
}

/* One more workload reference to o; rooted on its first.  A count stuck at
 * TRACING_ROOTS_STUCK stays (o is rooted for good). */
static void tracing_retain(void *ctx, hl_object *o)
{
    tracing_header *h = header_of(o);
    if (h->roots == TRACING_ROOTS_STUCK)
        return;
    if (h->roots++ == 0 && roots_add(ctx, h) != 0)
        h->roots = 0; /* no room to root it: it lives while reachable otherwise */
}

/* One workload reference to o fewer; off the root table at the last. */
static void tracing_release(void *ctx, hl_object *o)
{
    tracing_header *h = header_of(o);
    if (h->roots == 0 || h->roots == TRACING_ROOTS_STUCK)
        return; /* a reference the root table could not record, or a stuck count */
    if (--h->roots == 0)
        roots_remove(ctx, h);
}

static void GC_CALLBACK tracing_finalizer(void *base, void *client_data);

/* A finalizing type's object gets Boehm's finalizer at birth (no order: the
 * finalizers of a dead set run whatever points to what, as PEP 442's do).
 * Returns 0, or -ENOMEM when Boehm could not record it. */
static int register_type_finalizer(hl_object *o)
{
    GC_finalization_proc old_fn = tracing_finalizer; /* anything but NULL */
    void *old_data = NULL;
    GC_register_finalizer_no_order(header_of(o), tracing_finalizer, NULL, &old_fn, &old_data);
    return old_fn == NULL ? 0 : -ENOMEM; /* a new object had none before */
}

static hl_object *tracing_new_object(void *ctx, const hl_type *type, uint32_t nrefs,
                                     uint32_t data_size)
{
    /* An object without reference slots holds nothing Boehm must follow:
     * an atomic block is never scanned (GCBench's array of doubles). */
    hl_object *o = tracing_alloc(ctx, type, nrefs, data_size, nrefs == 0, 1);
    if (o != NULL && hl_type_finalizes(type) &&
        register_type_finalizer(o) != 0) {
        tracing_release(ctx, o); /* garbage for the next collection */
        o = NULL;
    }
    tracing_run_finalizers(ctx);
    return o;
}

/* A child stored into parent->refs[field] at once, never rooted: between
 * Boehm's allocation and the store it is held by this frame, which Boehm
 * scans, and after it by the parent.  Rooting it for the moment a workload
 * would hold it costs two root-table updates, and the unrooting touches the
 * header of the object moved into its slot: for a tree built node by node
 * that was a sixth of the run. */
static hl_object *tracing_new_child(void *ctx, hl_object *parent, uint32_t field,
                                    const hl_type *type, uint32_t nrefs, uint32_t data_size)
{
    hl_object *o = tracing_alloc(ctx, type, nrefs, data_size, nrefs == 0, 0);
    if (o != NULL && hl_type_finalizes(type) && register_type_finalizer(o) != 0)
        o = NULL; /* unstored: garbage for the next collection */
    if (o != NULL)
        parent->refs[field] = o;
    tracing_run_finalizers(ctx);
    return o;
}

/* Death is Boehm's business. */
static void tracing_free_object(void *ctx, hl_object *o)
{
    (void)ctx;
    (void)o;
}

/* ------------------------------------------------------------ census -- */

/* One block Boehm kept: count it when it is an object of the open
 * instance. */
static void GC_CALLBACK census_visit(void *base, size_t bytes, void *arg)
{
    tracing *t = arg;
    if (!block_is_heaplab(base))
        return;
    tracing_header *h = base;
    if (!header_is_mine(t, h))
        return;
    size_t size = block_size(object_of(h));
    assert(size <= bytes);
    (void)bytes;
    t->census_live_objects++;
    t->census_live_bytes += size;
}

static void *GC_CALLBACK census_locked(void *arg)
{
    tracing *t = arg;
    t->census_live_objects = t->census_live_bytes = 0;
    GC_enumerate_reachable_objects_inner(census_visit, t);
    return NULL;
}

/* Take the census when Boehm's mark bits still describe the last
 * collect()'s full collection and no object was made since; otherwise keep
 * the previous one.  Costs one walk over the heap's blocks. */
static void census_take(tracing *t)
{
    t->census_current = 0;
    if (t->collect_gc_no == 0 || GC_get_gc_no() != t->collect_gc_no ||
        t->objects_allocated != t->collect_allocated)
        return;
    GC_call_with_alloc_lock(census_locked, t);
    t->census_freed = t->objects_allocated - t->census_live_objects;
    t->census_current = 1;
}

/* -------------------------------------------------------- collection -- */

/* A full collection (Boehm has no generations: `generation` is ignored),
 * timed by the event hook; then the weak reference callbacks it queued. */
static void tracing_collect(void *ctx, int generation)
{
    tracing *t = ctx;
    (void)generation;
    GC_gcollect();
    t->collect_gc_no = GC_get_gc_no();
    t->collect_allocated = t->objects_allocated;
    tracing_run_finalizers(t);
}

/* ---------------------------------------------------- weak references -- */

/* The callbacks chained on a dead target, newest first, of the weak
 * references that survived it. */
static void run_weak_callbacks(tracing *t, tracing_weak_node *chain)
{
    for (tracing_weak_node *n = chain; n != NULL; n = n->next) {
        if (n->weakref == 0)
            continue;
        tracing_header *wh = GC_REVEAL_POINTER(n->weakref);
        if (!header_is_mine(t, wh))
            continue;
        hl_object *w = object_of(wh);
        tracing_weak *d = hl_object_data(w);
        d->cb(w, d->arg);
        t->callbacks_run++;
    }
}

/* The type's finalizers of a dead object, once in its life: PEP 442's
 * finalize, then the legacy one (see the design comment). */
static void run_type_finalizers(tracing *t, tracing_header *h)
{
    hl_object *o = object_of(h);
    if (h->finalized || !hl_type_finalizes(o->type))
        return;
    h->finalized = 1;
    const hl_gc gc = {&tracing_ops, t, NULL};
    if (o->type->finalize != NULL)
        o->type->finalize(&gc, o);
    if (o->type->legacy_del != NULL)
        o->type->legacy_del(&gc, o);
}

/* Boehm's finalizer of a dead object that has weak reference callbacks (the
 * chain in client_data), a finalizing type, or both.  Its weak links are
 * already zero, and everything it reaches is still intact (Boehm kept it
 * for this call).  As CPython: callbacks first, then the finalizers.
 * Nothing runs when the instance that registered it has closed.  Boehm
 * calls it once per registration; an object it resurrects is registered
 * again only by a new weak reference with a callback, and its type's
 * finalizers do not run twice. */
static void GC_CALLBACK tracing_finalizer(void *base, void *client_data)
{
    tracing *t = tracing_active;
    tracing_header *h = base;
    if (t == NULL || !header_is_mine(t, h))
        return;
    run_weak_callbacks(t, client_data);
    run_type_finalizers(t, h);
}

/* Never called: marks "GC_register_finalizer_no_order did not answer". */
static void GC_CALLBACK tracing_no_answer(void *obj, void *client_data)
{
    (void)obj;
    (void)client_data;
}

/* Chain a callback node for weak reference w onto target's finalizer.
 * Returns 0 or -ENOMEM. */
static int weak_add_callback(hl_object *target, hl_object *w)
{
    tracing_weak_node *n = GC_MALLOC(sizeof *n);
    if (n == NULL)
        return -ENOMEM;
    n->weakref = GC_HIDE_POINTER(header_of(w));
    if (GC_general_register_disappearing_link((void **)&n->weakref, header_of(w)) != GC_SUCCESS)
        return -ENOMEM;
    GC_finalization_proc old_fn = tracing_no_answer;
    void *old_data = NULL;
    GC_register_finalizer_no_order(header_of(target), tracing_finalizer, n, &old_fn,
                                   &old_data);
    if (old_fn == tracing_no_answer) {
        GC_unregister_disappearing_link((void **)&n->weakref);
        return -ENOMEM;
    }
    if (old_fn == tracing_finalizer)
        n->next = old_data;
    return 0;
}

static hl_object *tracing_weak_new(void *ctx, hl_object *target, hl_weak_callback cb, void *arg)
{
    tracing *t = ctx;
    hl_object *w = tracing_alloc(t, &tracing_weakref_type, 0, sizeof(tracing_weak), 1, 1);
    if (w == NULL)
        return NULL;
    tracing_weak *d = hl_object_data(w);
    d->cb = cb;
    d->arg = arg;
    if (target != NULL) {
        d->target = target;
        int ok = GC_general_register_disappearing_link((void **)&d->target, header_of(target)) ==
                 GC_SUCCESS;
        if (ok && cb != NULL && weak_add_callback(target, w) != 0) {
            GC_unregister_disappearing_link((void **)&d->target);
            ok = 0;
        }
        if (!ok) {
            d->target = NULL;
            tracing_release(t, w);
            return NULL;
        }
    }
    tracing_run_finalizers(t);
    return w;
}

static void *GC_CALLBACK weak_read_locked(void *w)
{
    return ((tracing_weak *)hl_object_data(w))->target;
}

/* Read the link under Boehm's lock, so a collection cannot decide the
 * target is dead between this read and the caller's use of it. */
static hl_object *tracing_weak_get(void *ctx, hl_object *w)
{
    (void)ctx;
    return GC_call_with_alloc_lock(weak_read_locked, w);
}

/* ---------------------------------------------------------- lifetime -- */

static const char *tracing_unavailable(void)
{
    return NULL; /* libgc is linked into heaplab */
}

/* Boehm's out-of-memory answer under a heap limit: no memory (NULL), so
 * that the allocation fails and the workload reports it. */
static void *GC_CALLBACK tracing_out_of_memory(size_t bytes)
{
    (void)bytes;
    return NULL;
}

/* Boehm's warnings under a heap limit: its "Out of Memory" ones are the
 * expected outcome of a probe below the minimum heap, so none is printed. */
static void GC_CALLBACK tracing_quiet(char *msg, GC_word arg)
{
    (void)msg, (void)arg;
}

/* Bound Boehm's heap to `limit` bytes (0: leave it unbounded), collecting
 * before giving up, and failing with NULL rather than aborting. */
static void tracing_set_limit(int64_t limit)
{
    if (limit <= 0)
        return;
    GC_set_max_heap_size((GC_word)limit);
    GC_set_max_retries(2);
    GC_set_oom_fn(tracing_out_of_memory);
    GC_set_warn_proc(tracing_quiet);
}

static int tracing_init(void **ctx, const hl_allocator *alloc, const hl_gc_config *cfg)
{
    (void)alloc; /* Boehm brings its own heap */
    if (tracing_active != NULL)
        return -EBUSY;
    pthread_once(&tracing_once, tracing_start_boehm);
    /* Boehm's heap never shrinks below what it holds (64 KiB after
     * GC_INIT): a smaller limit cannot be honoured, so it is refused. */
    if (cfg->heap_limit > 0 && GC_get_heap_size() > (size_t)cfg->heap_limit)
        return -ENOMEM;
    tracing_set_limit(cfg->heap_limit);
    tracing *t = hl_untracked_alloc(sizeof *t);
    if (t == NULL)
        return -ENOMEM;
    if (roots_grow(t) != 0) {
        hl_untracked_free(t, sizeof *t);
        return -ENOMEM;
    }
    tracing_serial = (tracing_serial + 1) & ~TRACING_TAG_BIT;
    t->tag = TRACING_TAG_BIT | tracing_serial;
    t->gc_no_at_init = GC_get_gc_no();
    tracing_prev_event = GC_get_on_collection_event();
    tracing_prev_push = GC_get_push_other_roots();
    tracing_active = t;
    GC_set_on_collection_event(tracing_on_event);
    GC_set_push_other_roots(tracing_push_roots);
    *ctx = t;
    return 0;
}

/* Cut the links of the instance's free lists, so that a stale word that
 * still points at one block of a list (the inline pop leaves one in a
 * register or on the stack) keeps that block alive and not the rest of
 * its chain: the next collection takes every other block back.  Cost:
 * O(blocks on the lists), at most a block's worth per size class. */
static void unchain_free_lists(tracing *t)
{
    for (size_t g = 0; g <= TRACING_FREE_LISTS; g++) {
        void *b = t->free_lists[g];
        while (b != NULL) {
            void *next = *(void **)b;
            *(void **)b = NULL;
            b = next;
        }
        t->free_lists[g] = NULL;
    }
}

/* Drop every root and collect; what the stack still seems to reach stays
 * in Boehm's heap (it cannot be shut down), and callbacks no longer run
 * (nor in a later instance: the objects are not its own). */
static void tracing_fini(void *ctx)
{
    tracing *t = ctx;
    GC_set_push_other_roots(tracing_prev_push);
    GC_set_on_collection_event(tracing_prev_event);
    tracing_active = NULL;
    unchain_free_lists(t);
    GC_gcollect();
    if (GC_should_invoke_finalizers())
        GC_invoke_finalizers(); /* they see no instance and do nothing */
    hl_untracked_free(t->roots, t->roots_cap * sizeof *t->roots);
    hl_pause_free(&t->pauses);
    hl_untracked_free(t, sizeof *t);
}

static void tracing_stats(void *ctx, hl_gc_stats *out)
{
    tracing *t = ctx;
    census_take(t);
    out->collections[0] = GC_get_gc_no() - t->gc_no_at_init;
    out->collected[0] = t->census_freed;
    out->objects_allocated = t->objects_allocated;
    out->objects_freed = t->census_freed;
    out->weakrefs_cleared = 0; /* not measured */
    out->callbacks_run = t->callbacks_run;
    out->own_live_bytes = t->census_current ? (int64_t)t->census_live_bytes : -1;
    out->own_heap_bytes = (int64_t)GC_get_heap_size();
    hl_pause_summary(&t->pauses, out);
}

static const hl_collector_ops tracing_ops = {
    .name = "tracing",
    .description = "Boehm GC (libgc 8.2): conservative mark-sweep on its own heap",
    .flags = HL_GC_FREES_CYCLES | HL_GC_OWN_HEAP,
    .unavailable = tracing_unavailable,
    .init = tracing_init,
    .fini = tracing_fini,
    .new_object = tracing_new_object,
    .new_child = tracing_new_child,
    .store = NULL, /* Boehm runs non-incremental here: no barrier, hl_store
                      writes inline */
    .retain = tracing_retain,
    .release = tracing_release,
    .free_object = tracing_free_object,
    .collect = tracing_collect,
    .weak_new = tracing_weak_new,
    .weak_get = tracing_weak_get,
    .stats = tracing_stats,
};

const hl_collector_ops *hl_tracing_collector(void)
{
    return &tracing_ops;
}
