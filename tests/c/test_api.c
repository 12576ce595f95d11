/* Functional tests of every function of the ringq C API and of every error
 * path, for each of the three queue kinds.
 *
 * The queue kinds share one set of tests through a small table of wrapper
 * functions (one per operation and kind), so every test runs against SPSC,
 * bounded MPMC and unbounded MPMC. No test asserts anything about timing. */
#include <ringq.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks = 0;

#define CHECK(cond)                                                              \
    do {                                                                         \
        checks++;                                                                \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

#define CHECK_RESULT(expr, expected)                                             \
    do {                                                                         \
        ringq_result got_ = (expr);                                              \
        checks++;                                                                \
        if (got_ != (expected)) {                                                \
            fprintf(stderr, "%s:%d: %s returned %u (%s), expected %s\n", __FILE__, \
                    __LINE__, #expr, (unsigned)got_, ringq_strerror(got_), #expected); \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

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
    static ringq_result K##_capacity(void *q, size_t *o) { return ringq_##K##_capacity(q, o); }

#define KIND(K, bounded)                                                                      \
    {#K,           bounded,          K##_new,         K##_new_null_out, K##_free,            \
     K##_try_push, K##_push,         K##_push_timeout, K##_try_push_many, K##_try_pop,       \
     K##_pop,      K##_pop_timeout,  K##_try_pop_many, K##_close,        K##_is_closed,      \
     K##_len,      K##_capacity}

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
    CHECK_RESULT(k->try_push(q, ITEM(1)), RINGQ_OK);
    CHECK_RESULT(k->len(q, &n), RINGQ_OK);
    CHECK(n == 1);
    k->free_(q); /* an item left inside is simply forgotten */
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
    /* NULL out pointers; with an item ready, none is lost. */
    CHECK_RESULT(k->try_push(q, ITEM(5)), RINGQ_OK);
    CHECK_RESULT(k->try_pop(q, NULL), bad);
    CHECK_RESULT(k->pop(q, NULL), bad);
    CHECK_RESULT(k->pop_timeout(q, NULL, 0), bad);
    CHECK_RESULT(k->is_closed(q, NULL), bad);
    CHECK_RESULT(k->len(q, NULL), bad);
    CHECK_RESULT(k->capacity(q, NULL), bad);
    CHECK_RESULT(k->try_pop(q, &out), RINGQ_OK);
    CHECK(out == ITEM(5));
    k->free_(q);
}

/* Blocking calls are woken by the other side, and by close. */
typedef struct {
    const kind *k;
    void *q;
    void *item;
    ringq_result result;
} call;

static void *blocking_pop(void *arg) {
    call *c = arg;
    c->result = c->k->pop(c->q, &c->item);
    return NULL;
}

static void *blocking_push(void *arg) {
    call *c = arg;
    c->result = c->k->push(c->q, c->item);
    return NULL;
}

static void test_blocking_wakeups(const kind *k) {
    pthread_t t;
    void *out = NULL;
    /* A pop waiting on an empty queue gets the item pushed later. */
    call c = {k, make(k, CAP), NULL, RINGQ_ERR_PANIC};
    CHECK(pthread_create(&t, NULL, blocking_pop, &c) == 0);
    CHECK_RESULT(k->push(c.q, ITEM(42)), RINGQ_OK);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK_RESULT(c.result, RINGQ_OK);
    CHECK(c.item == ITEM(42));
    /* A pop waiting on an empty queue wakes up when it is closed. */
    c.result = RINGQ_ERR_PANIC;
    CHECK(pthread_create(&t, NULL, blocking_pop, &c) == 0);
    CHECK_RESULT(k->close(c.q), RINGQ_OK);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK_RESULT(c.result, RINGQ_ERR_CLOSED);
    k->free_(c.q);
    if (!k->bounded) return;

    /* A push waiting on a full queue goes through once an item is popped. */
    c = (call){k, make(k, 1), ITEM(2), RINGQ_ERR_PANIC};
    CHECK_RESULT(k->push(c.q, ITEM(1)), RINGQ_OK);
    CHECK(pthread_create(&t, NULL, blocking_push, &c) == 0);
    CHECK_RESULT(k->pop(c.q, &out), RINGQ_OK);
    CHECK(out == ITEM(1));
    CHECK(pthread_join(t, NULL) == 0);
    CHECK_RESULT(c.result, RINGQ_OK);
    CHECK_RESULT(k->pop(c.q, &out), RINGQ_OK);
    CHECK(out == ITEM(2));
    k->free_(c.q);

    /* A push waiting on a full queue fails once it is closed. The close comes
     * from the pushing side's perspective of another thread, which the SPSC
     * contract allows for close. */
    c = (call){k, make(k, 1), ITEM(2), RINGQ_ERR_PANIC};
    CHECK_RESULT(k->push(c.q, ITEM(1)), RINGQ_OK);
    CHECK(pthread_create(&t, NULL, blocking_push, &c) == 0);
    CHECK_RESULT(k->close(c.q), RINGQ_OK);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK_RESULT(c.result, RINGQ_ERR_CLOSED);
    CHECK_RESULT(k->pop(c.q, &out), RINGQ_OK);
    CHECK(out == ITEM(1));
    CHECK_RESULT(k->pop(c.q, &out), RINGQ_ERR_CLOSED);
    k->free_(c.q);
}

static void test_strerror(void) {
    const ringq_result codes[] = {
        RINGQ_OK,         RINGQ_ERR_FULL,             RINGQ_ERR_EMPTY,
        RINGQ_ERR_CLOSED, RINGQ_ERR_TIMED_OUT,        RINGQ_ERR_INVALID_ARGUMENT,
        RINGQ_ERR_OUT_OF_MEMORY, RINGQ_ERR_PANIC,
    };
    const size_t n = sizeof codes / sizeof codes[0];
    CHECK(RINGQ_OK == 0);
    for (size_t i = 0; i < n; i++) {
        const char *s = ringq_strerror(codes[i]);
        CHECK(s != NULL && strlen(s) > 0);
        CHECK(strcmp(s, "unknown ringq error") != 0);
        for (size_t j = 0; j < i; j++) CHECK(strcmp(s, ringq_strerror(codes[j])) != 0);
    }
    CHECK(strcmp(ringq_strerror(RINGQ_ERR_PANIC + 1), "unknown ringq error") == 0);
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
    }
    printf("test_api: %d checks passed (spsc, bounded, unbounded)\n", checks);
    return 0;
}
