/* The C tests' assertions: CHECK for a condition, CHECK_RESULT for a ringq
 * call's result (and that it left errno alone). Each counts into `checks`,
 * which the test prints at the end; the first failure exits with status 1.
 * One copy per test program (a static counter), C99. */
#ifndef RINGQ_TESTS_CHECK_H
#define RINGQ_TESTS_CHECK_H

#include <ringq.h>

#include <errno.h>
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

/* No ringq call may change errno: each call made through CHECK_RESULT runs
 * with errno set to a value no system call returns, and must leave it so.
 * Calls that sleep make system calls that fail on purpose (a timed sleep
 * ends in ETIMEDOUT; the shared-memory queue's liveness check of a dead
 * process finds no /proc entry), so this matters. */
#define ERRNO_SENTINEL 12345

#define CHECK_RESULT(expr, expected)                                             \
    do {                                                                         \
        errno = ERRNO_SENTINEL;                                                  \
        ringq_result got_ = (expr);                                              \
        int errno_ = errno;                                                      \
        checks++;                                                                \
        if (got_ != (expected)) {                                                \
            fprintf(stderr, "%s:%d: %s returned %u (%s), expected %s\n", __FILE__, \
                    __LINE__, #expr, (unsigned)got_, ringq_strerror(got_), #expected); \
            exit(1);                                                             \
        }                                                                        \
        if (errno_ != ERRNO_SENTINEL) {                                          \
            fprintf(stderr, "%s:%d: %s changed errno to %d (%s)\n", __FILE__,     \
                    __LINE__, #expr, errno_, strerror(errno_));                  \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

#endif
