/* Tests of ringq_shm_watch: a descriptor that poll() finds readable when a
 * message may be waiting (or room may be free, or every task is done). Not
 * readable while nothing happened, readable after a push from this process
 * or a forked child, cleared by a rearm after an empty pop, readable after
 * a close; a copy made by fork leaves the parent's readiness alone; the
 * queue and its watch may be freed in either order; NULLs are refused.
 *
 * A check that a descriptor is readable waits up to LONG for it, a hang
 * detector rather than a timing check; a check that it is not readable
 * waits SHORT, so a slow machine can only make it pass, not fail. */
#define _GNU_SOURCE /* fork, waitpid, pipe, execl */
#include <ringq.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define SENTINEL ((void *)(uintptr_t)0xdead)
enum { MAX = 16, LONG_MS = 10000, SHORT_MS = 200 };

/* Whether the watch's descriptor turns readable within `ms` milliseconds. */
static bool readable(const ringq_shm_watch *w, int ms) {
    struct pollfd p = {ringq_shm_watch_fd(w), POLLIN, 0};
    int n;
    do n = poll(&p, 1, ms);
    while (n < 0 && errno == EINTR);
    CHECK(n >= 0);
    return n == 1 && (p.revents & POLLIN) != 0;
}

static int wait_child(pid_t pid) {
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static ringq_shm_watch *watch(const ringq_shm *q, ringq_shm_event event) {
    ringq_shm_watch *w = SENTINEL;
    CHECK_RESULT(ringq_shm_watch_new(q, event, &w), RINGQ_OK);
    CHECK(w != NULL && w != SENTINEL);
    CHECK(ringq_shm_watch_fd(w) >= 0);
    return w;
}

/* Frees a watch and checks that errno survived the thread's join. */
static void watch_free(ringq_shm_watch *w) {
    errno = ERRNO_SENTINEL;
    ringq_shm_watch_free(w);
    CHECK(errno == ERRNO_SENTINEL);
}

static void test_bad_arguments(void) {
    ringq_shm *q = NULL;
    CHECK_RESULT(ringq_shm_create_anonymous(2, MAX, &q), RINGQ_OK);
    ringq_shm_watch *w = SENTINEL;
    CHECK_RESULT(ringq_shm_watch_new(NULL, RINGQ_SHM_EVENT_MESSAGE, &w),
                 RINGQ_ERR_INVALID_ARGUMENT);
    CHECK(w == NULL);
    CHECK_RESULT(ringq_shm_watch_new(q, RINGQ_SHM_EVENT_MESSAGE, NULL), RINGQ_ERR_INVALID_ARGUMENT);
    uint32_t bad_events[] = {RINGQ_SHM_EVENT_TASKS_DONE + 1, 1000, UINT32_MAX};
    for (size_t i = 0; i < sizeof bad_events / sizeof bad_events[0]; i++) {
        w = SENTINEL;
        CHECK_RESULT(ringq_shm_watch_new(q, bad_events[i], &w), RINGQ_ERR_INVALID_ARGUMENT);
        CHECK(w == NULL);
    }
    CHECK(ringq_shm_watch_fd(NULL) == -1);
    CHECK_RESULT(ringq_shm_watch_rearm(NULL), RINGQ_ERR_INVALID_ARGUMENT);
    watch_free(NULL);
    ringq_shm_free(q);
}

static void test_a_message_makes_it_readable_and_a_rearm_on_empty_clears_it(void) {
    ringq_shm *q = NULL;
    CHECK_RESULT(ringq_shm_create_anonymous(4, MAX, &q), RINGQ_OK);
    ringq_shm_watch *w = watch(q, RINGQ_SHM_EVENT_MESSAGE);
    int fd = ringq_shm_watch_fd(w);
    CHECK(!readable(w, SHORT_MS));
    /* A rearm with nothing to clear changes nothing. */
    CHECK_RESULT(ringq_shm_watch_rearm(w), RINGQ_OK);
    CHECK(!readable(w, SHORT_MS));

    CHECK_RESULT(ringq_shm_try_push(q, "one", 3), RINGQ_OK);
    CHECK(readable(w, LONG_MS));
    CHECK(readable(w, 0)); /* stays readable until rearmed */
    char buf[MAX];
    size_t n = 0;
    CHECK_RESULT(ringq_shm_try_pop(q, buf, sizeof buf, &n), RINGQ_OK);
    CHECK(n == 3 && memcmp(buf, "one", 3) == 0);
    CHECK(readable(w, 0)); /* popping does not clear it: the rearm does */
    CHECK_RESULT(ringq_shm_try_pop(q, buf, sizeof buf, &n), RINGQ_ERR_EMPTY);
    CHECK_RESULT(ringq_shm_watch_rearm(w), RINGQ_OK);
    CHECK(!readable(w, SHORT_MS));

    /* A rearm while a message waits: readable again at once. */
    CHECK_RESULT(ringq_shm_try_push(q, "two", 3), RINGQ_OK);
    CHECK_RESULT(ringq_shm_try_push(q, "three", 5), RINGQ_OK);
    CHECK(readable(w, LONG_MS));
    CHECK_RESULT(ringq_shm_try_pop(q, buf, sizeof buf, &n), RINGQ_OK);
    CHECK_RESULT(ringq_shm_watch_rearm(w), RINGQ_OK);
    CHECK(readable(w, LONG_MS));
    CHECK_RESULT(ringq_shm_try_pop(q, buf, sizeof buf, &n), RINGQ_OK);
    CHECK(n == 5 && memcmp(buf, "three", 5) == 0);
    CHECK_RESULT(ringq_shm_try_pop(q, buf, sizeof buf, &n), RINGQ_ERR_EMPTY);
    CHECK_RESULT(ringq_shm_watch_rearm(w), RINGQ_OK);
    CHECK(!readable(w, SHORT_MS));
    CHECK(ringq_shm_watch_fd(w) == fd); /* one descriptor for the watch's life */

    /* A watch made while a message waits is readable from the start. */
    CHECK_RESULT(ringq_shm_try_push(q, "four", 4), RINGQ_OK);
    ringq_shm_watch *late = watch(q, RINGQ_SHM_EVENT_MESSAGE);
    CHECK(readable(late, LONG_MS));
    CHECK(readable(w, LONG_MS)); /* and every watch sees the message */
    watch_free(late);
    watch_free(w);
    ringq_shm_free(q);
}

/* poll() on the queue together with a pipe: each descriptor reports its own
 * readiness. */
static void test_polled_with_another_descriptor(void) {
    ringq_shm *q = NULL;
    CHECK_RESULT(ringq_shm_create_anonymous(4, MAX, &q), RINGQ_OK);
    ringq_shm_watch *w = watch(q, RINGQ_SHM_EVENT_MESSAGE);
    int pipefd[2];
    CHECK(pipe(pipefd) == 0);
    struct pollfd fds[2] = {{ringq_shm_watch_fd(w), POLLIN, 0}, {pipefd[0], POLLIN, 0}};
    CHECK(write(pipefd[1], "x", 1) == 1);
    CHECK(poll(fds, 2, LONG_MS) == 1);
    CHECK(fds[0].revents == 0 && (fds[1].revents & POLLIN));
    char c;
    CHECK(read(pipefd[0], &c, 1) == 1);
    CHECK_RESULT(ringq_shm_try_push(q, "m", 1), RINGQ_OK);
    fds[0].revents = fds[1].revents = 0;
    CHECK(poll(fds, 2, LONG_MS) == 1);
    CHECK((fds[0].revents & POLLIN) && fds[1].revents == 0);
    close(pipefd[0]);
    close(pipefd[1]);
    watch_free(w);
    ringq_shm_free(q);
}

/* Another process's push wakes the watch: the watch's thread sleeps on the
 * shared futex, as a blocked pop would. The producer is forked before the
 * watch is made, and told through a pipe when to push: a child forked from
 * a process with a watch inherits the memory of the watch's thread but not
 * the thread, which valgrind counts as leaked in the child. */
static void test_a_push_from_a_child_makes_it_readable(void) {
    ringq_shm *q = NULL;
    CHECK_RESULT(ringq_shm_create_anonymous(4, MAX, &q), RINGQ_OK);
    int go[2];
    CHECK(pipe(go) == 0);
    pid_t producer = fork();
    CHECK(producer >= 0);
    if (producer == 0) {
        char c;
        close(go[1]);
        if (read(go[0], &c, 1) != 1) _exit(2);
        _exit(ringq_shm_push(q, "from a child", 12) == RINGQ_OK ? 0 : 1);
    }
    close(go[0]);
    ringq_shm_watch *w = watch(q, RINGQ_SHM_EVENT_MESSAGE);
    CHECK(!readable(w, SHORT_MS));
    CHECK(write(go[1], "!", 1) == 1);
    close(go[1]);
    CHECK(readable(w, LONG_MS));
    CHECK(wait_child(producer) == 0);
    char buf[MAX];
    size_t n = 0;
    CHECK_RESULT(ringq_shm_try_pop(q, buf, sizeof buf, &n), RINGQ_OK);
    CHECK(n == 12 && memcmp(buf, "from a child", 12) == 0);
    watch_free(w);
    ringq_shm_free(q);
}

/* The forked copy's checks, in the child: 0, or the number of the first
 * that failed. */
static int forked_copy_checks(ringq_shm *q, ringq_shm_watch *copy) {
    if (ringq_shm_watch_rearm(copy) != RINGQ_OK) return 1;
    if (!readable(copy, 0)) return 2; /* the copy took the parent's readiness */
    ringq_shm_watch_free(copy);
    ringq_shm_watch *mine = NULL;
    if (ringq_shm_watch_new(q, RINGQ_SHM_EVENT_MESSAGE, &mine) != RINGQ_OK) return 3;
    if (!readable(mine, LONG_MS)) return 4;
    char buf[MAX];
    size_t n = 0;
    if (ringq_shm_try_pop(q, buf, sizeof buf, &n) != RINGQ_OK) return 5;
    if (ringq_shm_try_pop(q, buf, sizeof buf, &n) != RINGQ_ERR_EMPTY) return 6;
    if (ringq_shm_watch_rearm(mine) != RINGQ_OK) return 7;
    if (readable(mine, SHORT_MS)) return 8;
    ringq_shm_watch_free(mine);
    return 0;
}

/* A watch copied into a child by fork has no thread there: the child's
 * rearm must not drain the parent's readiness, freeing the copy must
 * neither hang nor crash, and a watch the child makes works.
 *
 * The child reports through a pipe and ends by exec'ing a shell that
 * exits, rather than exiting itself: what the parent's watch thread owned
 * (its thread-local destructors, the handle of it that the freed copy
 * forgets, since a thread of another process cannot be joined) has no
 * owner in the child, and valgrind would report it as leaked at an exit;
 * an exec leaves valgrind without a leak check. */
static void test_a_forked_copy_leaves_the_parents_readiness_alone(void) {
    ringq_shm *q = NULL;
    CHECK_RESULT(ringq_shm_create_anonymous(4, MAX, &q), RINGQ_OK);
    ringq_shm_watch *w = watch(q, RINGQ_SHM_EVENT_MESSAGE);
    CHECK_RESULT(ringq_shm_try_push(q, "one", 3), RINGQ_OK);
    CHECK(readable(w, LONG_MS));
    int report[2];
    CHECK(pipe(report) == 0);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        unsigned char failed = (unsigned char)forked_copy_checks(q, w);
        if (write(report[1], &failed, 1) != 1) _exit(99);
        execl("/bin/sh", "sh", "-c", "exit 0", (char *)NULL);
        _exit(98);
    }
    close(report[1]);
    unsigned char failed = 99;
    CHECK(read(report[0], &failed, 1) == 1);
    close(report[0]);
    if (failed != 0) fprintf(stderr, "forked copy: check %u failed\n", failed);
    CHECK(failed == 0);
    CHECK(wait_child(child) == 0);
    CHECK(readable(w, 0)); /* still the parent's until it rearms */
    size_t len = 99;
    CHECK_RESULT(ringq_shm_len(q, &len), RINGQ_OK);
    CHECK(len == 0); /* the child took the message */
    CHECK_RESULT(ringq_shm_watch_rearm(w), RINGQ_OK);
    CHECK(!readable(w, SHORT_MS));
    watch_free(w);
    ringq_shm_free(q);
}

static void test_room_and_tasks_done(void) {
    ringq_shm *q = NULL;
    CHECK_RESULT(ringq_shm_create_anonymous(2, MAX, &q), RINGQ_OK);
    CHECK_RESULT(ringq_shm_try_push(q, "a", 1), RINGQ_OK);
    CHECK_RESULT(ringq_shm_try_push(q, "b", 1), RINGQ_OK);
    ringq_shm_watch *room = watch(q, RINGQ_SHM_EVENT_ROOM);
    CHECK(!readable(room, SHORT_MS)); /* full */
    char buf[MAX];
    size_t n = 0;
    CHECK_RESULT(ringq_shm_try_pop(q, buf, sizeof buf, &n), RINGQ_OK);
    CHECK(readable(room, LONG_MS));
    CHECK_RESULT(ringq_shm_try_push(q, "c", 1), RINGQ_OK);
    CHECK_RESULT(ringq_shm_try_push(q, "d", 1), RINGQ_ERR_FULL);
    CHECK_RESULT(ringq_shm_watch_rearm(room), RINGQ_OK);
    CHECK(!readable(room, SHORT_MS));
    watch_free(room);

    ringq_shm_watch *done = watch(q, RINGQ_SHM_EVENT_TASKS_DONE);
    CHECK(readable(done, LONG_MS)); /* no task yet */
    CHECK_RESULT(ringq_shm_add_tasks(q, 1), RINGQ_OK);
    CHECK_RESULT(ringq_shm_watch_rearm(done), RINGQ_OK);
    CHECK(!readable(done, SHORT_MS));
    CHECK_RESULT(ringq_shm_task_done(q), RINGQ_OK);
    CHECK(readable(done, LONG_MS));
    watch_free(done);
    ringq_shm_free(q);
}

/* A close wakes every watch, and keeps them readable: a rearm on a closed
 * queue turns the descriptor readable again at once. */
static void test_close_makes_it_readable(void) {
    ringq_shm *q = NULL;
    CHECK_RESULT(ringq_shm_create_anonymous(1, MAX, &q), RINGQ_OK);
    CHECK_RESULT(ringq_shm_try_push(q, "full", 4), RINGQ_OK);
    ringq_shm_watch *room = watch(q, RINGQ_SHM_EVENT_ROOM);
    ringq_shm *spare = NULL;
    CHECK_RESULT(ringq_shm_create_anonymous(1, MAX, &spare), RINGQ_OK);
    ringq_shm_watch *message = watch(spare, RINGQ_SHM_EVENT_MESSAGE);
    CHECK(!readable(room, SHORT_MS));
    CHECK(!readable(message, SHORT_MS));
    CHECK_RESULT(ringq_shm_close(q), RINGQ_OK);
    CHECK_RESULT(ringq_shm_close(spare), RINGQ_OK);
    CHECK(readable(room, LONG_MS));
    CHECK(readable(message, LONG_MS));
    char buf[MAX];
    size_t n = 0;
    CHECK_RESULT(ringq_shm_try_pop(spare, buf, sizeof buf, &n), RINGQ_ERR_CLOSED);
    CHECK_RESULT(ringq_shm_watch_rearm(message), RINGQ_OK);
    CHECK(readable(message, LONG_MS));
    watch_free(room);
    watch_free(message);
    ringq_shm_free(q);
    ringq_shm_free(spare);
}

/* The watch keeps the queue alive: freeing the handle first leaves the
 * watch working (valgrind checks that nothing leaks either way). */
static void test_the_queue_may_be_freed_first(void) {
    ringq_shm *q = NULL, *other = NULL;
    CHECK_RESULT(ringq_shm_create_anonymous(4, MAX, &q), RINGQ_OK);
    int fd = -1;
    CHECK_RESULT(ringq_shm_fd(q, &fd), RINGQ_OK);
    CHECK_RESULT(ringq_shm_open_fd(fd, &other), RINGQ_OK);
    ringq_shm_watch *w = watch(q, RINGQ_SHM_EVENT_MESSAGE);
    ringq_shm_free(q);
    CHECK(!readable(w, SHORT_MS));
    CHECK_RESULT(ringq_shm_try_push(other, "after", 5), RINGQ_OK);
    CHECK(readable(w, LONG_MS));
    char buf[MAX];
    size_t n = 0;
    CHECK_RESULT(ringq_shm_try_pop(other, buf, sizeof buf, &n), RINGQ_OK);
    CHECK_RESULT(ringq_shm_try_pop(other, buf, sizeof buf, &n), RINGQ_ERR_EMPTY);
    CHECK_RESULT(ringq_shm_watch_rearm(w), RINGQ_OK);
    CHECK(!readable(w, SHORT_MS));
    watch_free(w);
    ringq_shm_free(other);
}

int main(void) {
    test_bad_arguments();
    test_a_message_makes_it_readable_and_a_rearm_on_empty_clears_it();
    test_polled_with_another_descriptor();
    test_a_push_from_a_child_makes_it_readable();
    test_a_forked_copy_leaves_the_parents_readiness_alone();
    test_room_and_tasks_done();
    test_close_makes_it_readable();
    test_the_queue_may_be_freed_first();
    printf("test_shm_watch: %d checks passed\n", checks);
    return 0;
}
