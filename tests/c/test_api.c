/* Functional tests of every function of the ringq C API and of every error
 * path, for each of the three queue kinds.
 *
 * The queue kinds share one set of tests through a small table of wrapper
 * functions (one per operation and kind), so every test runs against SPSC,
 * bounded MPMC and unbounded MPMC. No test asserts anything about timing.
 *
 * Tests of blocking calls first wait until the blocked thread is really
 * parked (the queue's waiting count says it stopped spinning and the kernel
 * says it sleeps), so that a wake-up through the fast path cannot pass for
 * one through the slow path.
 *
 * Written in C99 (the header's minimum) with POSIX threads and signals. */
#define _GNU_SOURCE /* syscall(SYS_gettid) */

#include <ringq.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

/* Pointer-sized items that are not real pointers: the queue never looks. */
#define ITEM(n) ((void *)(uintptr_t)(n))
#define SENTINEL ITEM(0xdead)

/* One queue kind, seen through wrappers that take `void *` handles. */
typedef struct {
    const char *name;
    int bounded; /* 0 for the unbounded queue */
    ringq_result (*new_)(size_t capacity, void **out);
    ringq_result (*new_null_out)(size_t capacity);
    void (*free_)(void *q);
    ringq_result (*try_push)(void *q, void *item);
    ringq_result (*push)(void *q, void *item);
    ringq_result (*push_timeout)(void *q, void *item, uint64_t ns);
    ringq_result (*try_push_many)(void *q, void *const *items, size_t n, size_t *pushed);
    ringq_result (*try_pop)(void *q, void **out);
    ringq_result (*pop)(void *q, void **out);
    ringq_result (*pop_timeout)(void *q, void **out, uint64_t ns);
    ringq_result (*try_pop_many)(void *q, void **out, size_t max, size_t *popped);
    ringq_result (*close)(void *q);
    ringq_result (*is_closed)(void *q, bool *out);
    ringq_result (*len)(void *q, size_t *out);
    ringq_result (*capacity)(void *q, size_t *out);
    ringq_result (*waiting)(void *q, size_t *poppers, size_t *pushers);
} kind;

#define WRAP_OPS(K)                                                                              \
    static void K##_free(void *q) { ringq_##K##_free(q); }                                       \
    static ringq_result K##_try_push(void *q, void *i) { return ringq_##K##_try_push(q, i); }    \
    static ringq_result K##_push(void *q, void *i) { return ringq_##K##_push(q, i); }            \
    static ringq_result K##_push_timeout(void *q, void *i, uint64_t ns) {                        \
        return ringq_##K##_push_timeout(q, i, ns);                                               \
    }                                                                                            \
    static ringq_result K##_try_push_many(void *q, void *const *it, size_t n, size_t *p) {       \
        return ringq_##K##_try_push_many(q, it, n, p);                                           \
    }                                                                                            \
    static ringq_result K##_try_pop(void *q, void **o) { return ringq_##K##_try_pop(q, o); }     \
    static ringq_result K##_pop(void *q, void **o) { return ringq_##K##_pop(q, o); }             \
    static ringq_result K##_pop_timeout(void *q, void **o, uint64_t ns) {                        \
        return ringq_##K##_pop_timeout(q, o, ns);                                                \
    }                                                                                            \
    static ringq_result K##_try_pop_many(void *q, void **o, size_t m, size_t *p) {               \
        return ringq_##K##_try_pop_many(q, o, m, p);                                             \
    }                                                                                            \
    static ringq_result K##_close(void *q) { return ringq_##K##_close(q); }                      \
    static ringq_result K##_is_closed(void *q, bool *o) { return ringq_##K##_is_closed(q, o); }  \
    static ringq_result K##_len(void *q, size_t *o) { return ringq_##K##_len(q, o); }            \
    static ringq_result K##_capacity(void *q, size_t *o) { return ringq_##K##_capacity(q, o); }  \
    static ringq_result K##_waiting(void *q, size_t *po, size_t *pu) {                           \
        return ringq_##K##_waiting(q, po, pu);                                                   \
    }

#define KIND(K, bounded)                                                                      \
    {#K,           bounded,          K##_new,         K##_new_null_out, K##_free,            \
     K##_try_push, K##_push,         K##_push_timeout, K##_try_push_many, K##_try_pop,       \
     K##_pop,      K##_pop_timeout,  K##_try_pop_many, K##_close,        K##_is_closed,      \
     K##_len,      K##_capacity,     K##_waiting}

WRAP_OPS(spsc)
WRAP_OPS(bounded)
WRAP_OPS(unbounded)

static ringq_result spsc_new(size_t cap, void **out) {
    ringq_spsc *q = SENTINEL;
    ringq_result r = ringq_spsc_new(cap, &q);
    *out = q;
    return r;
}
static ringq_result spsc_new_null_out(size_t cap) { return ringq_spsc_new(cap, NULL); }
static ringq_result bounded_new(size_t cap, void **out) {
    ringq_bounded *q = SENTINEL;
    ringq_result r = ringq_bounded_new(cap, &q);
    *out = q;
    return r;
}
static ringq_result bounded_new_null_out(size_t cap) { return ringq_bounded_new(cap, NULL); }
static ringq_result unbounded_new(size_t cap, void **out) {
    (void)cap;
    ringq_unbounded *q = SENTINEL;
    ringq_result r = ringq_unbounded_new(&q);
    *out = q;
    return r;
}
static ringq_result unbounded_new_null_out(size_t cap) {
    (void)cap;
    return ringq_unbounded_new(NULL);
}

static const kind KINDS[] = {KIND(spsc, 1), KIND(bounded, 1), KIND(unbounded, 0)};

enum { CAP = 4 };

static void *make(const kind *k, size_t cap) {
    void *q = NULL;
    CHECK_RESULT(k->new_(cap, &q), RINGQ_OK);
    CHECK(q != NULL && q != SENTINEL);
    return q;
}

static void test_new_and_free(const kind *k) {
    void *q = SENTINEL;
    CHECK_RESULT(k->new_null_out(CAP), RINGQ_ERR_INVALID_ARGUMENT);
    if (k->bounded) {
        CHECK_RESULT(k->new_(0, &q), RINGQ_ERR_INVALID_ARGUMENT);
        CHECK(q == NULL); /* *out is set to NULL on failure */
        q = SENTINEL;
        CHECK_RESULT(k->new_(SIZE_MAX, &q), RINGQ_ERR_OUT_OF_MEMORY);
        CHECK(q == NULL);
        q = SENTINEL;
        CHECK_RESULT(k->new_(SIZE_MAX / 2, &q), RINGQ_ERR_OUT_OF_MEMORY);
        CHECK(q == NULL);
        /* Encodable, but more than a 47-bit address space can hold, whatever
         * the overcommit policy: the allocator itself refuses. */
        q = SENTINEL;
        CHECK_RESULT(k->new_((size_t)1 << 45, &q), RINGQ_ERR_OUT_OF_MEMORY);
        CHECK(q == NULL);
    }
    k->free_(NULL); /* NULL-safe */
    q = make(k, CAP);
    k->free_(q);
}

static void test_introspection(const kind *k) {
    void *q = make(k, CAP);
    size_t n = 99;
    bool closed = true;
    CHECK_RESULT(k->capacity(q, &n), RINGQ_OK);
    CHECK(n == (k->bounded ? (size_t)CAP : SIZE_MAX));
    CHECK_RESULT(k->len(q, &n), RINGQ_OK);
    CHECK(n == 0);
    CHECK_RESULT(k->is_closed(q, &closed), RINGQ_OK);
    CHECK(!closed);
    size_t poppers = 99, pushers = 99;
    CHECK_RESULT(k->waiting(q, &poppers, &pushers), RINGQ_OK);
    CHECK(poppers == 0 && pushers == 0);
    CHECK_RESULT(k->try_push(q, ITEM(1)), RINGQ_OK);
    CHECK_RESULT(k->len(q, &n), RINGQ_OK);
    CHECK(n == 1);
    errno = ERRNO_SENTINEL;
    k->free_(q); /* an item left inside is simply forgotten */
    CHECK(errno == ERRNO_SENTINEL);
}

static void test_try_push_pop_fifo(const kind *k) {
    void *q = make(k, CAP);
    void *out = SENTINEL;
    size_t n = 0;
    CHECK_RESULT(k->try_pop(q, &out), RINGQ_ERR_EMPTY);
    CHECK(out == SENTINEL); /* untouched on failure */
    for (uintptr_t i = 1; i <= CAP; i++) CHECK_RESULT(k->try_push(q, ITEM(i)), RINGQ_OK);
    if (k->bounded) {
        CHECK_RESULT(k->try_push(q, ITEM(99)), RINGQ_ERR_FULL);
    } else {
        CHECK_RESULT(k->try_push(q, ITEM(CAP + 1)), RINGQ_OK);
    }
    CHECK_RESULT(k->len(q, &n), RINGQ_OK);
    CHECK(n == (size_t)(k->bounded ? CAP : CAP + 1));
    for (uintptr_t i = 1; i <= n; i++) {
        CHECK_RESULT(k->try_pop(q, &out), RINGQ_OK);
        CHECK(out == ITEM(i));
    }
    CHECK_RESULT(k->try_pop(q, &out), RINGQ_ERR_EMPTY);
    /* NULL is an item like any other. */
    CHECK_RESULT(k->try_push(q, NULL), RINGQ_OK);
    CHECK_RESULT(k->try_pop(q, &out), RINGQ_OK);
    CHECK(out == NULL);
    k->free_(q);
}

static void test_blocking_and_timeouts_single_thread(const kind *k) {
    void *q = make(k, CAP);
    void *out = SENTINEL;
    CHECK_RESULT(k->pop_timeout(q, &out, 0), RINGQ_ERR_TIMED_OUT);
    CHECK_RESULT(k->pop_timeout(q, &out, 1000000), RINGQ_ERR_TIMED_OUT); /* 1 ms */
    CHECK(out == SENTINEL);
    for (uintptr_t i = 1; i <= CAP; i++) {
        if (i % 2) {
            CHECK_RESULT(k->push(q, ITEM(i)), RINGQ_OK);
        } else {
            CHECK_RESULT(k->push_timeout(q, ITEM(i), 1000000), RINGQ_OK);
        }
    }
    if (k->bounded) {
        CHECK_RESULT(k->push_timeout(q, ITEM(99), 0), RINGQ_ERR_TIMED_OUT);
        CHECK_RESULT(k->push_timeout(q, ITEM(99), 1000000), RINGQ_ERR_TIMED_OUT);
    } else {
        /* Never waits: the timeout is irrelevant. */
        CHECK_RESULT(k->push_timeout(q, ITEM(CAP + 1), 0), RINGQ_OK);
        CHECK_RESULT(k->pop_timeout(q, &out, 0), RINGQ_OK); /* take the extra one back out */
        CHECK(out == ITEM(1));
        CHECK_RESULT(k->try_push(q, ITEM(0)), RINGQ_OK);   /* keep 4 items, order shifted */
    }
    /* A huge timeout means no deadline; an item is ready, so it returns. */
    CHECK_RESULT(k->pop_timeout(q, &out, UINT64_MAX), RINGQ_OK);
    CHECK(out == ITEM(k->bounded ? 1 : 2));
    CHECK_RESULT(k->pop(q, &out), RINGQ_OK);
    CHECK_RESULT(k->pop_timeout(q, &out, 0), RINGQ_OK);
    k->free_(q);
}

static void test_bulk(const kind *k) {
    void *q = make(k, CAP);
    void *items[6] = {ITEM(1), ITEM(2), ITEM(3), ITEM(4), ITEM(5), ITEM(6)};
    void *out[10];
    size_t n = 99;
    /* Bad arguments. */
    CHECK_RESULT(k->try_push_many(q, NULL, 3, &n), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(k->try_push_many(q, items, 3, NULL), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(k->try_pop_many(q, NULL, 3, &n), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(k->try_pop_many(q, out, 3, NULL), RINGQ_ERR_INVALID_ARGUMENT);
    /* Zero-length batches are fine, even with a NULL array. */
    n = 99;
    CHECK_RESULT(k->try_push_many(q, NULL, 0, &n), RINGQ_OK);
    CHECK(n == 0);
    n = 99;
    CHECK_RESULT(k->try_pop_many(q, NULL, 0, &n), RINGQ_OK);
    CHECK(n == 0);
    /* Empty. */
    n = 99;
    CHECK_RESULT(k->try_pop_many(q, out, 10, &n), RINGQ_ERR_EMPTY);
    CHECK(n == 0);
    /* The longest prefix that fits goes in. */
    CHECK_RESULT(k->try_push_many(q, items, 6, &n), RINGQ_OK);
    CHECK(n == (k->bounded ? (size_t)CAP : 6));
    if (k->bounded) {
        CHECK_RESULT(k->try_push_many(q, items + n, 6 - n, &n), RINGQ_ERR_FULL);
        CHECK(n == 0);
    }
    size_t expected = k->bounded ? CAP : 6;
    /* Pop a few, then the rest, in order. */
    CHECK_RESULT(k->try_pop_many(q, out, 3, &n), RINGQ_OK);
    CHECK(n == 3);
    CHECK_RESULT(k->try_pop_many(q, out + 3, 10 - 3, &n), RINGQ_OK);
    CHECK(n == expected - 3);
    for (size_t i = 0; i < expected; i++) CHECK(out[i] == items[i]);
    k->free_(q);
}

static void test_close(const kind *k) {
    void *q = make(k, CAP);
    void *item = ITEM(7), *out = SENTINEL;
    void *items[2] = {ITEM(8), ITEM(9)};
    void *outs[4];
    size_t n = 99;
    bool closed = false;
    CHECK_RESULT(k->try_push(q, ITEM(1)), RINGQ_OK);
    CHECK_RESULT(k->try_push(q, ITEM(2)), RINGQ_OK);
    CHECK_RESULT(k->try_push(q, ITEM(3)), RINGQ_OK);
    CHECK_RESULT(k->close(q), RINGQ_OK);
    CHECK_RESULT(k->close(q), RINGQ_OK); /* idempotent */
    CHECK_RESULT(k->is_closed(q, &closed), RINGQ_OK);
    CHECK(closed);
    /* Pushes are refused. */
    CHECK_RESULT(k->try_push(q, item), RINGQ_ERR_CLOSED);
    CHECK_RESULT(k->push(q, item), RINGQ_ERR_CLOSED);
    CHECK_RESULT(k->push_timeout(q, item, 1000000), RINGQ_ERR_CLOSED);
    CHECK_RESULT(k->try_push_many(q, items, 2, &n), RINGQ_ERR_CLOSED);
    CHECK(n == 0);
    /* Pops drain what is left, then report closed. */
    CHECK_RESULT(k->pop(q, &out), RINGQ_OK);
    CHECK(out == ITEM(1));
    CHECK_RESULT(k->try_pop(q, &out), RINGQ_OK);
    CHECK(out == ITEM(2));
    CHECK_RESULT(k->try_pop_many(q, outs, 4, &n), RINGQ_OK);
    CHECK(n == 1 && outs[0] == ITEM(3));
    out = SENTINEL;
    CHECK_RESULT(k->try_pop(q, &out), RINGQ_ERR_CLOSED);
    CHECK_RESULT(k->pop(q, &out), RINGQ_ERR_CLOSED);
    CHECK_RESULT(k->pop_timeout(q, &out, 1000000), RINGQ_ERR_CLOSED);
    CHECK_RESULT(k->pop_timeout(q, &out, UINT64_MAX), RINGQ_ERR_CLOSED);
    CHECK(out == SENTINEL);
    n = 99;
    CHECK_RESULT(k->try_pop_many(q, outs, 4, &n), RINGQ_ERR_CLOSED);
    CHECK(n == 0);
    CHECK_RESULT(k->len(q, &n), RINGQ_OK);
    CHECK(n == 0);
    k->free_(q);
}

static void test_null_arguments(const kind *k) {
    void *q = make(k, CAP);
    void *out = SENTINEL;
    void *items[1] = {ITEM(1)};
    size_t n = 0;
    bool b = false;
    const ringq_result bad = RINGQ_ERR_INVALID_ARGUMENT;
    /* NULL handle, everywhere. */
    CHECK_RESULT(k->try_push(NULL, ITEM(1)), bad);
    CHECK_RESULT(k->push(NULL, ITEM(1)), bad);
    CHECK_RESULT(k->push_timeout(NULL, ITEM(1), 0), bad);
    CHECK_RESULT(k->try_push_many(NULL, items, 1, &n), bad);
    CHECK_RESULT(k->try_pop(NULL, &out), bad);
    CHECK_RESULT(k->pop(NULL, &out), bad);
    CHECK_RESULT(k->pop_timeout(NULL, &out, 0), bad);
    CHECK_RESULT(k->try_pop_many(NULL, &out, 1, &n), bad);
    CHECK_RESULT(k->close(NULL), bad);
    CHECK_RESULT(k->is_closed(NULL, &b), bad);
    CHECK_RESULT(k->len(NULL, &n), bad);
    CHECK_RESULT(k->capacity(NULL, &n), bad);
    CHECK_RESULT(k->waiting(NULL, &n, &n), bad);
    /* NULL out pointers; with an item ready, none is lost. */
    CHECK_RESULT(k->try_push(q, ITEM(5)), RINGQ_OK);
    CHECK_RESULT(k->try_pop(q, NULL), bad);
    CHECK_RESULT(k->pop(q, NULL), bad);
    CHECK_RESULT(k->pop_timeout(q, NULL, 0), bad);
    CHECK_RESULT(k->is_closed(q, NULL), bad);
    CHECK_RESULT(k->len(q, NULL), bad);
    CHECK_RESULT(k->capacity(q, NULL), bad);
    CHECK_RESULT(k->waiting(q, NULL, &n), bad);
    CHECK_RESULT(k->waiting(q, &n, NULL), bad);
    CHECK_RESULT(k->try_pop(q, &out), RINGQ_OK);
    CHECK(out == ITEM(5));
    k->free_(q);
}

/* ---- blocking calls, woken once they are really parked ------------------ */

/* A call made on another thread; the fields below `tid` are written by that
 * thread and read after it is joined (or through __atomic builtins). */
typedef struct {
    const kind *k;
    void *q;
    void *item;       /* pushed, or where the pop stores its item */
    uint64_t timeout; /* for the timed calls */
    pid_t tid;        /* the thread's kernel id, published before the call */
    ringq_result result;
    int errno_after;  /* errno after the call; ERRNO_SENTINEL before it */
    int returned;     /* set once the call has returned */
} call;

static call make_call(const kind *k, void *q, void *item) {
    call c = {k, q, item, 0, 0, RINGQ_ERR_PANIC, 0, 0};
    return c;
}

static void call_begin(call *c) {
    __atomic_store_n(&c->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
    errno = ERRNO_SENTINEL;
}

static void call_end(call *c, ringq_result r) {
    c->errno_after = errno;
    c->result = r;
    __atomic_store_n(&c->returned, 1, __ATOMIC_RELEASE);
}

static void *blocking_pop(void *arg) {
    call *c = arg;
    call_begin(c);
    call_end(c, c->k->pop(c->q, &c->item));
    return NULL;
}

static void *blocking_push(void *arg) {
    call *c = arg;
    call_begin(c);
    call_end(c, c->k->push(c->q, c->item));
    return NULL;
}

static void *timed_pop(void *arg) {
    call *c = arg;
    call_begin(c);
    call_end(c, c->k->pop_timeout(c->q, &c->item, c->timeout));
    return NULL;
}

/* A pop that may be cancelled (deferred, the default): after the pop it
 * reaches a cancellation point, where a pending cancel ends the thread. */
static void *cancellable_pop(void *arg) {
    call *c = arg;
    call_begin(c);
    call_end(c, c->k->pop(c->q, &c->item));
    pthread_testcancel();
    return NULL;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Whether thread `tid` of this process sleeps in the kernel: 'S' in
 * /proc/self/task/TID/stat. 1 or 0, or -1 if /proc cannot tell. */
static int thread_sleeps(pid_t tid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *close_paren = strrchr(buf, ')'); /* the name may hold spaces */
    if (!close_paren || close_paren[1] != ' ') return -1;
    return close_paren[2] == 'S';
}

enum side { POPPER, PUSHER };

/* Waits until the thread making `c` is parked in the queue: counted as a
 * waiter of `side` (it stopped spinning and registered to sleep) and
 * sleeping in the kernel. Fails after 60 s rather than hanging. */
static void wait_parked(const call *c, enum side side) {
    pid_t tid;
    while ((tid = __atomic_load_n(&c->tid, __ATOMIC_ACQUIRE)) == 0) sleep_ms(1);
    for (int ms = 0; ms < 60000; ms++) {
        size_t poppers = 0, pushers = 0;
        CHECK_RESULT(c->k->waiting(c->q, &poppers, &pushers), RINGQ_OK);
        CHECK(!__atomic_load_n(&c->returned, __ATOMIC_ACQUIRE));
        if ((side == POPPER ? poppers : pushers) == 1 && thread_sleeps(tid) != 0) return;
        sleep_ms(1);
    }
    fprintf(stderr, "%s: the %s never parked\n", c->k->name, side == POPPER ? "popper" : "pusher");
    exit(1);
}

/* Joins the thread making `c` and checks that errno came back untouched. */
static void join_call(pthread_t t, const call *c) {
    CHECK(pthread_join(t, NULL) == 0);
    CHECK(c->returned);
    if (c->errno_after != ERRNO_SENTINEL) {
        fprintf(stderr, "%s: a blocking call changed errno to %d (%s)\n", c->k->name,
                c->errno_after, strerror(c->errno_after));
        exit(1);
    }
}

static void test_blocking_wakeups(const kind *k) {
    pthread_t t;
    void *out = NULL;
    /* A pop parked on an empty queue gets the item pushed later. The push is
     * a try_push, whose wake-up must leave errno alone too. */
    call c = make_call(k, make(k, CAP), NULL);
    CHECK(pthread_create(&t, NULL, blocking_pop, &c) == 0);
    wait_parked(&c, POPPER);
    CHECK_RESULT(k->try_push(c.q, ITEM(42)), RINGQ_OK);
    join_call(t, &c);
    CHECK_RESULT(c.result, RINGQ_OK);
    CHECK(c.item == ITEM(42));
    /* A pop parked on an empty queue wakes up when it is closed. */
    c = make_call(k, c.q, SENTINEL);
    CHECK(pthread_create(&t, NULL, blocking_pop, &c) == 0);
    wait_parked(&c, POPPER);
    CHECK_RESULT(k->close(c.q), RINGQ_OK);
    join_call(t, &c);
    CHECK_RESULT(c.result, RINGQ_ERR_CLOSED);
    CHECK(c.item == SENTINEL);
    k->free_(c.q);
    if (!k->bounded) return;

    /* A push parked on a full queue goes through once an item is popped
     * (by a try_pop, as above). */
    c = make_call(k, make(k, 1), ITEM(2));
    CHECK_RESULT(k->push(c.q, ITEM(1)), RINGQ_OK);
    CHECK(pthread_create(&t, NULL, blocking_push, &c) == 0);
    wait_parked(&c, PUSHER);
    CHECK_RESULT(k->try_pop(c.q, &out), RINGQ_OK);
    CHECK(out == ITEM(1));
    join_call(t, &c);
    CHECK_RESULT(c.result, RINGQ_OK);
    CHECK_RESULT(k->pop(c.q, &out), RINGQ_OK);
    CHECK(out == ITEM(2));
    k->free_(c.q);

    /* A push parked on a full queue fails once it is closed (from another
     * thread, which the SPSC contract allows for close). */
    c = make_call(k, make(k, 1), ITEM(2));
    CHECK_RESULT(k->push(c.q, ITEM(1)), RINGQ_OK);
    CHECK(pthread_create(&t, NULL, blocking_push, &c) == 0);
    wait_parked(&c, PUSHER);
    CHECK_RESULT(k->close(c.q), RINGQ_OK);
    join_call(t, &c);
    CHECK_RESULT(c.result, RINGQ_ERR_CLOSED);
    CHECK_RESULT(k->pop(c.q, &out), RINGQ_OK);
    CHECK(out == ITEM(1));
    CHECK_RESULT(k->pop(c.q, &out), RINGQ_ERR_CLOSED);
    k->free_(c.q);
}

/* A timed pop that parks and then times out reports RINGQ_ERR_TIMED_OUT and
 * leaves errno alone (the timed sleep itself ends in ETIMEDOUT). */
static void test_timeout_after_parking(const kind *k) {
    pthread_t t;
    call c = make_call(k, make(k, CAP), SENTINEL);
    c.timeout = 200000000; /* 200 ms: long enough to be seen parked */
    CHECK(pthread_create(&t, NULL, timed_pop, &c) == 0);
    wait_parked(&c, POPPER);
    join_call(t, &c);
    CHECK_RESULT(c.result, RINGQ_ERR_TIMED_OUT);
    CHECK(c.item == SENTINEL);
    k->free_(c.q);
}

/* ---- signals and cancellation ------------------------------------------- */

static int signals_seen = 0;

static void count_signal(int sig) {
    (void)sig;
    __atomic_fetch_add(&signals_seen, 1, __ATOMIC_RELEASE);
}

/* Sends SIGUSR1 to the thread making `c` and waits until its handler ran. */
static void interrupt(pthread_t t) {
    int before = __atomic_load_n(&signals_seen, __ATOMIC_ACQUIRE);
    CHECK(pthread_kill(t, SIGUSR1) == 0);
    while (__atomic_load_n(&signals_seen, __ATOMIC_ACQUIRE) == before) sleep_ms(1);
}

/* A signal whose handler runs on a parked thread (installed without
 * SA_RESTART, so the sleep itself fails with EINTR) does not end the call:
 * the thread parks again, and the call completes as if nothing happened. */
static void test_signal_while_parked(const kind *k) {
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = count_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    CHECK(sigaction(SIGUSR1, &sa, &old) == 0);

    pthread_t t;
    call c = make_call(k, make(k, CAP), NULL);
    CHECK(pthread_create(&t, NULL, blocking_pop, &c) == 0);
    wait_parked(&c, POPPER);
    interrupt(t);
    wait_parked(&c, POPPER); /* still waiting, not returned */
    interrupt(t);
    wait_parked(&c, POPPER);
    CHECK_RESULT(k->push(c.q, ITEM(7)), RINGQ_OK);
    join_call(t, &c);
    CHECK_RESULT(c.result, RINGQ_OK);
    CHECK(c.item == ITEM(7));

    /* A timed pop goes on waiting until its deadline. */
    c = make_call(k, c.q, SENTINEL);
    c.timeout = 300000000; /* 300 ms */
    CHECK(pthread_create(&t, NULL, timed_pop, &c) == 0);
    wait_parked(&c, POPPER);
    interrupt(t);
    join_call(t, &c);
    CHECK_RESULT(c.result, RINGQ_ERR_TIMED_OUT);
    CHECK(c.item == SENTINEL);
    k->free_(c.q);
    CHECK(sigaction(SIGUSR1, &old, NULL) == 0);
}

/* A blocked pop is not a cancellation point: a deferred cancel sent while
 * the thread is parked neither ends the pop nor loses the item it then
 * gets; the thread ends at its next cancellation point, after the pop. */
static void test_cancel_while_parked(const kind *k) {
    pthread_t t;
    void *retval = NULL;
    call c = make_call(k, make(k, CAP), NULL);
    CHECK(pthread_create(&t, NULL, cancellable_pop, &c) == 0);
    wait_parked(&c, POPPER);
    CHECK(pthread_cancel(t) == 0);
    sleep_ms(20); /* time for the cancel to act, were the pop a cancellation point */
    wait_parked(&c, POPPER);
    CHECK_RESULT(k->push(c.q, ITEM(9)), RINGQ_OK);
    CHECK(pthread_join(t, &retval) == 0);
    CHECK(retval == PTHREAD_CANCELED);
    CHECK(__atomic_load_n(&c.returned, __ATOMIC_ACQUIRE));
    CHECK_RESULT(c.result, RINGQ_OK);
    CHECK(c.item == ITEM(9));
    size_t poppers = 99, pushers = 99, n = 99;
    CHECK_RESULT(k->waiting(c.q, &poppers, &pushers), RINGQ_OK);
    CHECK(poppers == 0 && pushers == 0);
    CHECK_RESULT(k->len(c.q, &n), RINGQ_OK);
    CHECK(n == 0);
    k->free_(c.q);
}

/* Calls that only look at a queue accept a const handle. (That the others
 * refuse one is checked at build time by const_handles_refused.c.) */
static void test_const_handles(void) {
    ringq_spsc *s = NULL;
    ringq_bounded *b = NULL;
    ringq_unbounded *u = NULL;
    CHECK_RESULT(ringq_spsc_new(2, &s), RINGQ_OK);
    CHECK_RESULT(ringq_bounded_new(3, &b), RINGQ_OK);
    CHECK_RESULT(ringq_unbounded_new(&u), RINGQ_OK);
    const ringq_spsc *cs = s;
    const ringq_bounded *cb = b;
    const ringq_unbounded *cu = u;
    size_t n = 0, m = 0;
    bool closed = true;
    CHECK_RESULT(ringq_spsc_capacity(cs, &n), RINGQ_OK);
    CHECK(n == 2);
    CHECK_RESULT(ringq_bounded_capacity(cb, &n), RINGQ_OK);
    CHECK(n == 3);
    CHECK_RESULT(ringq_unbounded_capacity(cu, &n), RINGQ_OK);
    CHECK(n == SIZE_MAX);
    CHECK_RESULT(ringq_spsc_len(cs, &n), RINGQ_OK);
    CHECK_RESULT(ringq_bounded_len(cb, &n), RINGQ_OK);
    CHECK_RESULT(ringq_unbounded_len(cu, &n), RINGQ_OK);
    CHECK_RESULT(ringq_spsc_is_closed(cs, &closed), RINGQ_OK);
    CHECK_RESULT(ringq_bounded_is_closed(cb, &closed), RINGQ_OK);
    CHECK_RESULT(ringq_unbounded_is_closed(cu, &closed), RINGQ_OK);
    CHECK(!closed);
    CHECK_RESULT(ringq_spsc_waiting(cs, &n, &m), RINGQ_OK);
    CHECK_RESULT(ringq_bounded_waiting(cb, &n, &m), RINGQ_OK);
    CHECK_RESULT(ringq_unbounded_waiting(cu, &n, &m), RINGQ_OK);
    ringq_spsc_free(s);
    ringq_bounded_free(b);
    ringq_unbounded_free(u);
}

static void test_strerror(void) {
    const ringq_result codes[] = {
        RINGQ_OK,         RINGQ_ERR_FULL,             RINGQ_ERR_EMPTY,
        RINGQ_ERR_CLOSED, RINGQ_ERR_TIMED_OUT,        RINGQ_ERR_INVALID_ARGUMENT,
        RINGQ_ERR_OUT_OF_MEMORY, RINGQ_ERR_PANIC,     RINGQ_ERR_TOO_LARGE,
        RINGQ_ERR_CORRUPT, RINGQ_ERR_INCOMPATIBLE,    RINGQ_ERR_NOT_FOUND,
        RINGQ_ERR_EXISTS, RINGQ_ERR_PERMISSION,       RINGQ_ERR_PARTICIPANTS,
        RINGQ_ERR_SYSTEM, RINGQ_ERR_UNTRUSTED,
    };
    const size_t n = sizeof codes / sizeof codes[0];
    CHECK(RINGQ_OK == 0);
    for (size_t i = 0; i < n; i++) {
        const char *s = ringq_strerror(codes[i]);
        CHECK(s != NULL && strlen(s) > 0);
        CHECK(strcmp(s, "unknown ringq error") != 0);
        for (size_t j = 0; j < i; j++) CHECK(strcmp(s, ringq_strerror(codes[j])) != 0);
    }
    CHECK(strcmp(ringq_strerror(RINGQ_ERR_UNTRUSTED + 1), "unknown ringq error") == 0);
    CHECK(strcmp(ringq_strerror(UINT32_MAX), "unknown ringq error") == 0);
    CHECK(strcmp(ringq_strerror(RINGQ_ERR_CLOSED), "queue is closed") == 0);
}

static void test_version(void) {
    char spelled[64];
    snprintf(spelled, sizeof spelled, "%d.%d.%d", RINGQ_VERSION_MAJOR, RINGQ_VERSION_MINOR,
             RINGQ_VERSION_PATCH);
    CHECK(strcmp(spelled, RINGQ_VERSION) == 0);
    CHECK(ringq_version() != NULL);
    CHECK(strcmp(ringq_version(), RINGQ_VERSION) == 0);
}

int main(void) {
    test_strerror();
    test_version();
    test_const_handles();
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++) {
        const kind *k = &KINDS[i];
        test_new_and_free(k);
        test_introspection(k);
        test_try_push_pop_fifo(k);
        test_blocking_and_timeouts_single_thread(k);
        test_bulk(k);
        test_close(k);
        test_null_arguments(k);
        test_blocking_wakeups(k);
        test_timeout_after_parking(k);
        test_signal_while_parked(k);
        test_cancel_while_parked(k);
    }
    printf("test_api: %d checks passed (spsc, bounded, unbounded)\n", checks);
    return 0;
}
