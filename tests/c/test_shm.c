/* Tests of the ringq_shm C API: a queue of byte messages in shared memory,
 * used from several processes. Every function and error path; processes
 * meeting by name and by descriptor; a C producer process and a C consumer
 * process checked for exactly-once, in-order delivery; and processes
 * SIGKILLed while pushing and while blocked in a pop, after which the
 * others carry on. No test asserts anything about timing. */
#define _GNU_SOURCE /* fork, kill, waitpid, ftruncate */
#include <ringq.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define SENTINEL ((void *)(uintptr_t)0xdead)
enum { MAX = 64 };

static char names[8][64];
static int n_names = 0;

/* A fresh queue name for this process, removed at exit. */
static const char *fresh_name(const char *tag) {
    CHECK(n_names < 8);
    snprintf(names[n_names], sizeof names[0], "ringq-ctest-%s-%d", tag, (int)getpid());
    return names[n_names++];
}

static void remove_names(void) {
    for (int i = 0; i < n_names; i++) ringq_shm_unlink(names[i]);
}

/* A message naming its producer and sequence number. */
static size_t make_message(unsigned char *buf, uint32_t producer, uint32_t seq, size_t len) {
    memcpy(buf, &producer, 4);
    memcpy(buf + 4, &seq, 4);
    for (size_t i = 8; i < len; i++) buf[i] = (unsigned char)(seq + producer + i);
    return len;
}

static void read_message(const unsigned char *buf, size_t len, uint32_t *producer, uint32_t *seq) {
    CHECK(len >= 8);
    memcpy(producer, buf, 4);
    memcpy(seq, buf + 4, 4);
    for (size_t i = 8; i < len; i++) CHECK(buf[i] == (unsigned char)(*seq + *producer + i));
}

static int wait_child(pid_t pid) {
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_results_have_text(void) {
    for (unsigned r = RINGQ_ERR_TOO_LARGE; r <= RINGQ_ERR_UNTRUSTED; r++) {
        CHECK(strlen(ringq_strerror(r)) > 0);
        CHECK(strcmp(ringq_strerror(r), "unknown ringq error") != 0);
    }
}

static void test_create_open_unlink(void) {
    const char *name = fresh_name("names");
    ringq_shm *q = SENTINEL, *other = SENTINEL;
    CHECK_RESULT(ringq_shm_open(name, &other), RINGQ_ERR_NOT_FOUND);
    CHECK(other == NULL);
    CHECK_RESULT(ringq_shm_create(name, 8, MAX, &q), RINGQ_OK);
    CHECK(q != NULL && q != SENTINEL);

    /* Private to this user. */
    char path[128];
    struct stat st;
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    CHECK(stat(path, &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    other = SENTINEL;
    CHECK_RESULT(ringq_shm_create(name, 8, MAX, &other), RINGQ_ERR_EXISTS);
    CHECK(other == NULL);
    CHECK_RESULT(ringq_shm_open(name, &other), RINGQ_OK);
    size_t n = 0;
    CHECK_RESULT(ringq_shm_capacity(other, &n), RINGQ_OK);
    CHECK(n == 8);
    CHECK_RESULT(ringq_shm_max_message_size(other, &n), RINGQ_OK);
    CHECK(n == MAX);
    CHECK_RESULT(ringq_shm_try_push(q, "hello", 5), RINGQ_OK);
    char buf[MAX];
    CHECK_RESULT(ringq_shm_try_pop(other, buf, sizeof buf, &n), RINGQ_OK);
    CHECK(n == 5 && memcmp(buf, "hello", 5) == 0);

    CHECK_RESULT(ringq_shm_unlink(name), RINGQ_OK);
    CHECK_RESULT(ringq_shm_unlink(name), RINGQ_ERR_NOT_FOUND);
    ringq_shm *none = SENTINEL;
    CHECK_RESULT(ringq_shm_open(name, &none), RINGQ_ERR_NOT_FOUND);
    CHECK(none == NULL);
    /* Open handles outlive the name. */
    CHECK_RESULT(ringq_shm_try_push(other, "x", 1), RINGQ_OK);
    CHECK_RESULT(ringq_shm_len(q, &n), RINGQ_OK);
    CHECK(n == 1);
    ringq_shm_free(other);
    ringq_shm_free(q);
    ringq_shm_free(NULL);

    /* A chosen mode and participant table. */
    const char *shared = fresh_name("mode");
    CHECK_RESULT(ringq_shm_create_ex(shared, 2, 8, 1, 0640, &q), RINGQ_OK);
    snprintf(path, sizeof path, "/dev/shm/%s", shared);
    CHECK(stat(path, &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);
    CHECK_RESULT(ringq_shm_open(shared, &other), RINGQ_ERR_PARTICIPANTS);
    CHECK(other == NULL);
    ringq_shm_free(q);
    CHECK_RESULT(ringq_shm_open(shared, &other), RINGQ_OK);
    ringq_shm_free(other);
}

static void test_bad_arguments(void) {
    ringq_shm *q = SENTINEL;
    const char *bad_names[] = {"", "/", ".hidden", "a/b", "with space", "\xc3\xa4"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        CHECK_RESULT(ringq_shm_create(bad_names[i], 2, 8, &q), RINGQ_ERR_INVALID_ARGUMENT);
        CHECK(q == NULL);
        CHECK_RESULT(ringq_shm_open(bad_names[i], &q), RINGQ_ERR_INVALID_ARGUMENT);
        CHECK_RESULT(ringq_shm_unlink(bad_names[i]), RINGQ_ERR_INVALID_ARGUMENT);
    }
    CHECK_RESULT(ringq_shm_create(NULL, 2, 8, &q), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_create("ringq-ctest-null-out", 2, 8, NULL), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_open(NULL, &q), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_unlink(NULL), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_create_anonymous(0, 8, &q), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_create_anonymous(2, 0, &q), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_create_anonymous(SIZE_MAX, 8, &q), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_create_anonymous(2, 8, NULL), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_open_fd(-1, &q), RINGQ_ERR_INVALID_ARGUMENT);

    CHECK_RESULT(ringq_shm_create_anonymous(2, 8, &q), RINGQ_OK);
    char buf[8];
    size_t n = 99;
    int fd = -1;
    bool closed;
    CHECK_RESULT(ringq_shm_try_push(NULL, "x", 1), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_try_push(q, NULL, 1), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_try_push(q, NULL, 0), RINGQ_OK); /* an empty message */
    CHECK_RESULT(ringq_shm_try_pop(q, NULL, 8, &n), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_try_pop(q, buf, 8, NULL), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_try_pop(NULL, buf, 8, &n), RINGQ_ERR_INVALID_ARGUMENT);
    /* A buffer that could not hold the longest message is refused before
     * anything is taken. */
    CHECK_RESULT(ringq_shm_try_pop(q, buf, 7, &n), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK(n == 99);
    CHECK_RESULT(ringq_shm_try_pop(q, buf, 8, &n), RINGQ_OK);
    CHECK(n == 0);
    CHECK_RESULT(ringq_shm_fd(q, NULL), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_fd(NULL, &fd), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_len(NULL, &n), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_capacity(q, NULL), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_max_message_size(NULL, &n), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_is_closed(q, NULL), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_is_closed(NULL, &closed), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_close(NULL), RINGQ_ERR_INVALID_ARGUMENT);
    uint32_t pids[4];
    CHECK_RESULT(ringq_shm_claim_holders(NULL, pids, 4, &n), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_claim_holders(q, pids, 4, NULL), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_claim_holders(q, NULL, 4, &n), RINGQ_ERR_INVALID_ARGUMENT);
    n = 99;
    CHECK_RESULT(ringq_shm_claim_holders(q, NULL, 0, &n), RINGQ_OK);
    CHECK(n == 0); /* nobody is in the middle of a push or pop */
    CHECK_RESULT(ringq_shm_try_push_many(q, NULL, NULL, 1, &n), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_try_push_many(q, NULL, NULL, 0, &n), RINGQ_OK);
    CHECK(n == 0);
    CHECK_RESULT(ringq_shm_try_pop_many(q, buf, 8, NULL, 1, &n), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_try_pop_many(q, NULL, 0, NULL, 0, &n), RINGQ_OK);
    CHECK_RESULT(ringq_shm_try_pop_many(q, buf, 8, &n, 1, NULL), RINGQ_ERR_INVALID_ARGUMENT);
    ringq_shm_free(q);
}

static void test_messages_and_errors(void) {
    ringq_shm *q = NULL;
    CHECK_RESULT(ringq_shm_create_anonymous(3, MAX, &q), RINGQ_OK);
    unsigned char msg[MAX + 1], buf[MAX];
    size_t n = 0;
    /* Every length, through a wrapping ring. */
    for (size_t len = 0; len <= MAX; len++) {
        for (size_t i = 0; i < len; i++) msg[i] = (unsigned char)(len * 7 + i);
        CHECK_RESULT(ringq_shm_try_push(q, msg, len), RINGQ_OK);
        CHECK_RESULT(ringq_shm_try_pop(q, buf, sizeof buf, &n), RINGQ_OK);
        CHECK(n == len && memcmp(buf, msg, len) == 0);
    }
    CHECK_RESULT(ringq_shm_try_push(q, msg, MAX + 1), RINGQ_ERR_TOO_LARGE);
    CHECK_RESULT(ringq_shm_try_pop(q, buf, sizeof buf, &n), RINGQ_ERR_EMPTY);
    CHECK_RESULT(ringq_shm_pop_timeout(q, buf, sizeof buf, &n, 0), RINGQ_ERR_TIMED_OUT);
    CHECK_RESULT(ringq_shm_pop_timeout(q, buf, sizeof buf, &n, 1000000), RINGQ_ERR_TIMED_OUT);
    for (int i = 0; i < 3; i++) CHECK_RESULT(ringq_shm_push(q, "abc", 3), RINGQ_OK);
    CHECK_RESULT(ringq_shm_try_push(q, "abc", 3), RINGQ_ERR_FULL);
    CHECK_RESULT(ringq_shm_push_timeout(q, "abc", 3, 0), RINGQ_ERR_TIMED_OUT);
    CHECK_RESULT(ringq_shm_push_timeout(q, "abc", 3, 1000000), RINGQ_ERR_TIMED_OUT);
    CHECK_RESULT(ringq_shm_len(q, &n), RINGQ_OK);
    CHECK(n == 3);

    /* Close: pushes refused, pops drain and then report closed. */
    bool closed = true;
    CHECK_RESULT(ringq_shm_is_closed(q, &closed), RINGQ_OK);
    CHECK(!closed);
    CHECK_RESULT(ringq_shm_close(q), RINGQ_OK);
    CHECK_RESULT(ringq_shm_close(q), RINGQ_OK);
    CHECK_RESULT(ringq_shm_is_closed(q, &closed), RINGQ_OK);
    CHECK(closed);
    CHECK_RESULT(ringq_shm_try_push(q, "x", 1), RINGQ_ERR_CLOSED);
    for (int i = 0; i < 3; i++) CHECK_RESULT(ringq_shm_pop(q, buf, sizeof buf, &n), RINGQ_OK);
    CHECK_RESULT(ringq_shm_pop(q, buf, sizeof buf, &n), RINGQ_ERR_CLOSED);
    CHECK_RESULT(ringq_shm_try_pop(q, buf, sizeof buf, &n), RINGQ_ERR_CLOSED);
    ringq_shm_free(q);
}

static void test_batches(void) {
    ringq_shm *q = NULL;
    CHECK_RESULT(ringq_shm_create_anonymous(5, 8, &q), RINGQ_OK);
    const void *datas[4] = {"a", "bb", "ccc", "dddd"};
    size_t lens[4] = {1, 2, 3, 4}, pushed = 99, popped = 99, got_lens[8];
    CHECK_RESULT(ringq_shm_try_push_many(q, datas, lens, 4, &pushed), RINGQ_OK);
    CHECK(pushed == 4);
    CHECK_RESULT(ringq_shm_try_push_many(q, datas, lens, 4, &pushed), RINGQ_OK);
    CHECK(pushed == 1); /* the prefix that fits */
    CHECK_RESULT(ringq_shm_try_push_many(q, datas, lens, 4, &pushed), RINGQ_ERR_FULL);
    CHECK(pushed == 0);
    size_t too_long[1] = {9};
    CHECK_RESULT(ringq_shm_try_push_many(q, datas, too_long, 1, &pushed), RINGQ_ERR_TOO_LARGE);

    /* A buffer for two messages takes two, whatever max says. */
    char buf[5 * 8];
    CHECK_RESULT(ringq_shm_try_pop_many(q, buf, 2 * 8, got_lens, 8, &popped), RINGQ_OK);
    CHECK(popped == 2);
    CHECK(got_lens[0] == 1 && got_lens[1] == 2 && memcmp(buf, "abb", 3) == 0);
    CHECK_RESULT(ringq_shm_pop_many(q, buf, sizeof buf, got_lens, 8, &popped), RINGQ_OK);
    CHECK(popped == 3);
    CHECK(got_lens[0] == 3 && got_lens[1] == 4 && got_lens[2] == 1);
    CHECK(memcmp(buf, "cccdddda", 8) == 0);
    CHECK_RESULT(ringq_shm_try_pop_many(q, buf, sizeof buf, got_lens, 8, &popped), RINGQ_ERR_EMPTY);
    CHECK(popped == 0);
    CHECK_RESULT(ringq_shm_push_many(q, datas, lens, 4, &pushed), RINGQ_OK);
    CHECK(pushed == 4);
    ringq_shm_close(q);
    CHECK_RESULT(ringq_shm_push_many(q, datas, lens, 4, &pushed), RINGQ_ERR_CLOSED);
    CHECK(pushed == 0);
    ringq_shm_free(q);
}

static void test_descriptors(void) {
    ringq_shm *q = NULL, *other = NULL;
    CHECK_RESULT(ringq_shm_create_anonymous(4, 16, &q), RINGQ_OK);
    int fd = -1;
    CHECK_RESULT(ringq_shm_fd(q, &fd), RINGQ_OK);
    CHECK(fd >= 0);
    CHECK_RESULT(ringq_shm_open_fd(fd, &other), RINGQ_OK);
    CHECK_RESULT(ringq_shm_try_push(q, "via fd", 6), RINGQ_OK);
    char buf[16];
    size_t n = 0;
    CHECK_RESULT(ringq_shm_try_pop(other, buf, sizeof buf, &n), RINGQ_OK);
    CHECK(n == 6 && memcmp(buf, "via fd", 6) == 0);
    /* Sealed: nobody can shrink the segment under the others. */
    CHECK(ftruncate(fd, 4096) == -1);
    ringq_shm_free(other);
    ringq_shm_free(q);

    /* A file that is not a segment. */
    const char *name = fresh_name("garbage");
    char path[128];
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    for (int i = 0; i < 8192; i++) fputc(i * 13, f);
    fclose(f);
    CHECK_RESULT(ringq_shm_open(name, &other), RINGQ_ERR_INCOMPATIBLE);
    CHECK(other == NULL);
}

/* Opening by name trusts only files of this user that only it can write,
 * unless the caller widens that; a stranger's file is refused before
 * anything is read from it. */
static void test_trust(void) {
    ringq_shm *q = NULL, *other = SENTINEL;
    const char *group = fresh_name("group");
    CHECK_RESULT(ringq_shm_create_ex(group, 2, 8, 4, 0660, &q), RINGQ_OK);
    CHECK_RESULT(ringq_shm_open(group, &other), RINGQ_ERR_UNTRUSTED);
    CHECK(other == NULL);
    CHECK_RESULT(ringq_shm_open_trusting(group, NULL, &other), RINGQ_ERR_UNTRUSTED);
    ringq_shm_trust trust = {RINGQ_SHM_TRUST_GROUP_WRITABLE, 0, (uint32_t)getegid() + 1};
    CHECK_RESULT(ringq_shm_open_trusting(group, &trust, &other), RINGQ_ERR_UNTRUSTED);
    trust.group_gid = (uint32_t)getegid();
    CHECK_RESULT(ringq_shm_open_trusting(group, &trust, &other), RINGQ_OK);
    ringq_shm_free(other);
    trust.flags = 8;
    CHECK_RESULT(ringq_shm_open_trusting(group, &trust, &other), RINGQ_ERR_INVALID_ARGUMENT);
    ringq_shm_free(q);

    const char *everyone = fresh_name("everyone");
    CHECK_RESULT(ringq_shm_create_ex(everyone, 2, 8, 4, 0666, &q), RINGQ_OK);
    CHECK_RESULT(ringq_shm_open(everyone, &other), RINGQ_ERR_UNTRUSTED);
    ringq_shm_trust anyone = {RINGQ_SHM_TRUST_ANYONE, 0, 0};
    CHECK_RESULT(ringq_shm_open_trusting(everyone, &anyone, &other), RINGQ_OK);
    ringq_shm_free(other);
    ringq_shm_free(q);

    if (geteuid() != 0) {
        printf("test_trust: skipped a stranger's queue (needs root)\n");
        return;
    }
    /* Another user takes the name first. */
    const char *squatted = fresh_name("squat");
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        ringq_shm *mine = NULL;
        if (setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
        _exit(ringq_shm_create_ex(squatted, 2, 8, 4, 0600, &mine) == RINGQ_OK ? 0 : 3);
    }
    CHECK(wait_child(pid) == 0);
    CHECK_RESULT(ringq_shm_create(squatted, 2, 8, &q), RINGQ_ERR_EXISTS);
    CHECK_RESULT(ringq_shm_open(squatted, &other), RINGQ_ERR_UNTRUSTED);
    ringq_shm_trust owner = {RINGQ_SHM_TRUST_OWNER, 65534, 0};
    CHECK_RESULT(ringq_shm_open_trusting(squatted, &owner, &other), RINGQ_OK);
    ringq_shm_free(other);
}

/* A memfd that is not sealed against resizing is refused: its sender could
 * shrink it under this process. */
static void test_unsealed_descriptors(void) {
    ringq_shm *q = NULL, *other = SENTINEL;
    CHECK_RESULT(ringq_shm_create_anonymous(4, 16, &q), RINGQ_OK);
    int fd = -1;
    CHECK_RESULT(ringq_shm_fd(q, &fd), RINGQ_OK);
    struct stat st;
    CHECK(fstat(fd, &st) == 0);
    unsigned char *bytes = malloc((size_t)st.st_size);
    CHECK(bytes != NULL);
    CHECK(pread(fd, bytes, (size_t)st.st_size, 0) == st.st_size);
    int copy = memfd_create("forged", MFD_CLOEXEC);
    CHECK(copy >= 0);
    CHECK(pwrite(copy, bytes, (size_t)st.st_size, 0) == st.st_size);
    CHECK_RESULT(ringq_shm_open_fd(copy, &other), RINGQ_ERR_INCOMPATIBLE);
    CHECK(other == NULL);
    close(copy);
    free(bytes);
    ringq_shm_free(q);
}

/* A C producer process and a C consumer process on a named queue: every
 * message arrives once, in order, intact. */
static void test_producer_and_consumer_processes(void) {
    enum { N = 20000, SIZE = 48 };
    const char *name = fresh_name("procs");
    ringq_shm *q = NULL;
    CHECK_RESULT(ringq_shm_create(name, 16, SIZE, &q), RINGQ_OK);
    pid_t producer = fork();
    CHECK(producer >= 0);
    if (producer == 0) {
        ringq_shm *p = NULL;
        if (ringq_shm_open(name, &p) != RINGQ_OK) _exit(2);
        unsigned char msg[SIZE];
        for (uint32_t s = 0; s < N; s++) {
            size_t len = make_message(msg, 7, s, 8 + s % (SIZE - 7));
            if (ringq_shm_push(p, msg, len) != RINGQ_OK) _exit(3);
        }
        ringq_shm_free(p);
        _exit(0);
    }
    pid_t consumer = fork();
    CHECK(consumer >= 0);
    if (consumer == 0) {
        ringq_shm *c = NULL;
        if (ringq_shm_open(name, &c) != RINGQ_OK) _exit(2);
        unsigned char buf[SIZE];
        size_t len;
        uint32_t expect = 0, producer_id, seq;
        while (ringq_shm_pop(c, buf, sizeof buf, &len) == RINGQ_OK) {
            read_message(buf, len, &producer_id, &seq);
            if (producer_id != 7 || seq != expect || len != 8 + seq % (SIZE - 7)) _exit(4);
            expect++;
        }
        ringq_shm_free(c);
        _exit(expect == N ? 0 : 5);
    }
    CHECK(wait_child(producer) == 0);
    CHECK_RESULT(ringq_shm_close(q), RINGQ_OK); /* the consumer drains, then stops */
    CHECK(wait_child(consumer) == 0);
    ringq_shm_free(q);
}

/* Whether process `pid` is asleep (state S in /proc/<pid>/stat). */
static bool is_sleeping(pid_t pid) {
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) return false;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = 0;
    char *paren = strrchr(line, ')');
    return paren != NULL && paren[1] == ' ' && paren[2] == 'S';
}

/* Waits (a hang detector with a generous limit, not a timing check) until
 * `pid` sleeps. */
static void wait_until_sleeping(pid_t pid) {
    for (int i = 0; i < 30000 && !is_sleeping(pid); i++) usleep(1000);
    CHECK(is_sleeping(pid));
}

/* A consumer killed while asleep in a pop, and a producer killed while
 * asleep in a push on the full queue: the queue goes on working for the
 * others, and what the producer pushed arrives, complete and in order. */
static void test_killed_processes(void) {
    ringq_shm *q = NULL;
    CHECK_RESULT(ringq_shm_create_anonymous(8, 16, &q), RINGQ_OK);

    pid_t consumer = fork();
    CHECK(consumer >= 0);
    if (consumer == 0) { /* the inherited handle works in the child */
        char buf[16];
        size_t len;
        ringq_shm_pop(q, buf, sizeof buf, &len);
        _exit(1); /* not reached: nothing is pushed before it is killed */
    }
    wait_until_sleeping(consumer);
    kill(consumer, SIGKILL);
    CHECK(wait_child(consumer) == 128 + SIGKILL);

    pid_t producer = fork();
    CHECK(producer >= 0);
    if (producer == 0) {
        unsigned char msg[16];
        for (uint32_t s = 0;; s++) {
            make_message(msg, 1, s, 16);
            if (ringq_shm_push(q, msg, 16) != RINGQ_OK) _exit(2);
        }
    }
    size_t n = 0;
    while (ringq_shm_len(q, &n) == RINGQ_OK && n < 8) usleep(1000);
    wait_until_sleeping(producer); /* in the push of message 8 */
    kill(producer, SIGKILL);
    CHECK(wait_child(producer) == 128 + SIGKILL);

    unsigned char buf[16];
    uint32_t producer_id, seq, next = 0;
    /* The first pop finds the dead consumer's entry and recovers it. */
    for (; next < 8; next++) {
        CHECK_RESULT(ringq_shm_try_pop(q, buf, sizeof buf, &n), RINGQ_OK);
        read_message(buf, n, &producer_id, &seq);
        CHECK(producer_id == 1 && seq == next);
    }
    CHECK_RESULT(ringq_shm_try_pop(q, buf, sizeof buf, &n), RINGQ_ERR_EMPTY);
    /* The queue still works, for pushes and pops alike, many times round. */
    for (int round = 0; round < 40; round++) {
        CHECK_RESULT(ringq_shm_push(q, "again", 5), RINGQ_OK);
        CHECK_RESULT(ringq_shm_pop(q, buf, sizeof buf, &n), RINGQ_OK);
        CHECK(n == 5);
    }
    ringq_shm_free(q);
}

struct pusher_args {
    ringq_shm *q;
    uint32_t id;
    ringq_result result; /* the first failure, or RINGQ_OK */
};

/* Pushes 2000 messages. It reports through `result` rather than CHECK,
 * whose counter is the main thread's. */
static void *pusher(void *arg) {
    struct pusher_args *a = arg;
    unsigned char msg[16];
    a->result = RINGQ_OK;
    for (uint32_t s = 0; s < 2000 && a->result == RINGQ_OK; s++) {
        make_message(msg, a->id, s, 16);
        a->result = ringq_shm_push(a->q, msg, 16);
    }
    return NULL;
}

/* Threads of one process share one handle. */
static void test_threads_share_a_handle(void) {
    ringq_shm *q = NULL;
    CHECK_RESULT(ringq_shm_create_anonymous(4, 16, &q), RINGQ_OK);
    pthread_t threads[2];
    struct pusher_args args[2] = {{q, 0, RINGQ_OK}, {q, 1, RINGQ_OK}};
    for (int i = 0; i < 2; i++) CHECK(pthread_create(&threads[i], NULL, pusher, &args[i]) == 0);
    uint32_t next[2] = {0, 0};
    unsigned char buf[16];
    size_t n;
    for (int i = 0; i < 4000; i++) {
        uint32_t producer_id, seq;
        CHECK_RESULT(ringq_shm_pop(q, buf, sizeof buf, &n), RINGQ_OK);
        read_message(buf, n, &producer_id, &seq);
        CHECK(producer_id < 2 && seq == next[producer_id]);
        next[producer_id]++;
    }
    for (int i = 0; i < 2; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
        CHECK_RESULT(args[i].result, RINGQ_OK);
    }
    ringq_shm_free(q);
}

/* The task counter, across processes: a child finishes what the parent
 * counted, and the parent's join returns. */
static void test_tasks(void) {
    ringq_shm *q = NULL;
    CHECK_RESULT(ringq_shm_create_anonymous(4, 8, &q), RINGQ_OK);
    uint64_t n = 99;
    CHECK_RESULT(ringq_shm_task_done(q), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_join_timeout(q, 0), RINGQ_OK);
    CHECK_RESULT(ringq_shm_add_tasks(q, 3), RINGQ_OK);
    CHECK_RESULT(ringq_shm_unfinished_tasks(q, &n), RINGQ_OK);
    CHECK(n == 3);
    CHECK_RESULT(ringq_shm_join_timeout(q, 1000000), RINGQ_ERR_TIMED_OUT);
    for (int i = 0; i < 3; i++) CHECK_RESULT(ringq_shm_push(q, "t", 1), RINGQ_OK);
    pid_t worker = fork();
    CHECK(worker >= 0);
    if (worker == 0) {
        char buf[8];
        size_t len;
        for (int i = 0; i < 3; i++) {
            if (ringq_shm_pop(q, buf, sizeof buf, &len) != RINGQ_OK) _exit(1);
            if (ringq_shm_task_done(q) != RINGQ_OK) _exit(2);
        }
        _exit(0);
    }
    CHECK_RESULT(ringq_shm_join_timeout(q, UINT64_MAX), RINGQ_OK);
    CHECK(wait_child(worker) == 0);
    CHECK_RESULT(ringq_shm_unfinished_tasks(q, &n), RINGQ_OK);
    CHECK(n == 0);
    CHECK_RESULT(ringq_shm_add_tasks(NULL, 1), RINGQ_ERR_INVALID_ARGUMENT);
    CHECK_RESULT(ringq_shm_unfinished_tasks(q, NULL), RINGQ_ERR_INVALID_ARGUMENT);
    ringq_shm_free(q);
}

int main(void) {
    atexit(remove_names);
    test_tasks();
    test_results_have_text();
    test_create_open_unlink();
    test_bad_arguments();
    test_messages_and_errors();
    test_batches();
    test_descriptors();
    test_trust();
    test_unsealed_descriptors();
    test_producer_and_consumer_processes();
    test_killed_processes();
    test_threads_share_a_handle();
    printf("test_shm: %d checks passed\n", checks);
    return 0;
}
