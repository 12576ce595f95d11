/* Never run: compiled to check that every call which changes a queue
 * refuses a const handle. The build expects one "discards 'const'
 * qualifier" diagnostic per line marked "refused"; test_api.c checks that
 * the calls which only look at a queue accept one. */
#include <ringq.h>

void refuse_const(const ringq_spsc *cs, const ringq_bounded *cb, const ringq_unbounded *cu);

void refuse_const(const ringq_spsc *cs, const ringq_bounded *cb, const ringq_unbounded *cu) {
    void *item = NULL, *items[1] = {NULL};
    size_t n = 0;
#define REFUSE_ALL(K, q)                                                                      \
    ringq_##K##_try_push(q, item);               /* refused */                                \
    ringq_##K##_push(q, item);                   /* refused */                                \
    ringq_##K##_push_timeout(q, item, 0);        /* refused */                                \
    ringq_##K##_try_push_many(q, items, 1, &n);  /* refused */                                \
    ringq_##K##_try_pop(q, &item);               /* refused */                                \
    ringq_##K##_pop(q, &item);                   /* refused */                                \
    ringq_##K##_pop_timeout(q, &item, 0);        /* refused */                                \
    ringq_##K##_try_pop_many(q, items, 1, &n);   /* refused */                                \
    ringq_##K##_close(q);                        /* refused */                                \
    ringq_##K##_free(q);                         /* refused */
    REFUSE_ALL(spsc, cs)
    REFUSE_ALL(bounded, cb)
    REFUSE_ALL(unbounded, cu)
}
