/* Never run: compiled to check that every call which changes a queue
 * refuses a const handle. The build expects one "discards 'const'
 * qualifier" diagnostic per line marked "refused", three per line marked
 * "refused by each kind" (the macro runs for the three in-process kinds);
 * test_api.c, test_shm.c and test_shm_watch.c check that the calls which
 * only look at a queue accept one. */
#include <ringq.h>

void refuse_const(const ringq_spsc *cs, const ringq_bounded *cb, const ringq_unbounded *cu);
void refuse_const_shm(const ringq_shm *q, const ringq_shm_watch *w);

void refuse_const(const ringq_spsc *cs, const ringq_bounded *cb, const ringq_unbounded *cu) {
    void *item = NULL, *items[1] = {NULL};
    size_t n = 0;
#define REFUSE_ALL(K, q)                                                                      \
    ringq_##K##_try_push(q, item);               /* refused by each kind */                   \
    ringq_##K##_push(q, item);                   /* refused by each kind */                   \
    ringq_##K##_push_timeout(q, item, 0);        /* refused by each kind */                   \
    ringq_##K##_try_push_many(q, items, 1, &n);  /* refused by each kind */                   \
    ringq_##K##_try_pop(q, &item);               /* refused by each kind */                   \
    ringq_##K##_pop(q, &item);                   /* refused by each kind */                   \
    ringq_##K##_pop_timeout(q, &item, 0);        /* refused by each kind */                   \
    ringq_##K##_try_pop_many(q, items, 1, &n);   /* refused by each kind */                   \
    ringq_##K##_close(q);                        /* refused by each kind */                   \
    ringq_##K##_free(q);                         /* refused by each kind */
    REFUSE_ALL(spsc, cs)
    REFUSE_ALL(bounded, cb)
    REFUSE_ALL(unbounded, cu)
}

void refuse_const_shm(const ringq_shm *q, const ringq_shm_watch *w) {
    char buf[16] = {0};
    const void *datas[1] = {buf};
    size_t len = 0, lens[1] = {1}, n = 0;
    ringq_shm_try_push(q, buf, 1);                         /* refused */
    ringq_shm_push(q, buf, 1);                             /* refused */
    ringq_shm_push_timeout(q, buf, 1, 0);                  /* refused */
    ringq_shm_try_push_many(q, datas, lens, 1, &n);        /* refused */
    ringq_shm_push_many(q, datas, lens, 1, &n);            /* refused */
    ringq_shm_try_pop(q, buf, sizeof buf, &len);           /* refused */
    ringq_shm_pop(q, buf, sizeof buf, &len);               /* refused */
    ringq_shm_pop_timeout(q, buf, sizeof buf, &len, 0);    /* refused */
    ringq_shm_try_pop_many(q, buf, sizeof buf, lens, 1, &n); /* refused */
    ringq_shm_pop_many(q, buf, sizeof buf, lens, 1, &n);   /* refused */
    ringq_shm_add_tasks(q, 1);                             /* refused */
    ringq_shm_task_done(q);                                /* refused */
    ringq_shm_join_timeout(q, 0);                          /* refused */
    ringq_shm_close(q);                                    /* refused */
    ringq_shm_free(q);                                     /* refused */
    ringq_shm_watch_free(w);                               /* refused */
}
