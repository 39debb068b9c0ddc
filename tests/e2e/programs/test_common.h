/* What the end-to-end test programs share: failing with one "FAIL: reason"
 * line (from any thread), a deterministic hash step for their checksums, and
 * the checked I/O, sleep and child-reaping helpers of the multi-process ones. */
#ifndef CKPT_E2E_TEST_COMMON_H
#define CKPT_E2E_TEST_COMMON_H

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t test_fail_mu = PTHREAD_MUTEX_INITIALIZER;

static inline void fail(const char* fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static inline void fail(const char* fmt, ...) {
  pthread_mutex_lock(&test_fail_mu);
  va_list ap;
  va_start(ap, fmt);
  printf("FAIL: ");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  fflush(stdout);
  _exit(1);
}

static inline uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h *= 0xff51afd7ed558ccdull;
  return h ^ (h >> 29);
}

/* Writes all of buf (retrying short writes and EINTR) or fails naming what. */
static inline void write_all(int fd, const void* buf, size_t n, const char* what) {
  const char* p = (const char*)buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) fail("%s: write: %s", what, w < 0 ? strerror(errno) : "wrote nothing");
    p += w;
    n -= (size_t)w;
  }
}

/* Reads exactly n bytes; returns 0 at end of file before the first byte, 1
 * when all were read; fails on an error or an end of file in the middle. */
static inline int read_all(int fd, void* buf, size_t n, const char* what) {
  char* p = (char*)buf;
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, p + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail("%s: read: %s", what, strerror(errno));
    if (r == 0) {
      if (got == 0) return 0;
      fail("%s: end of file after %zu of %zu bytes", what, got, n);
    }
    got += (size_t)r;
  }
  return 1;
}

/* Sleeps ms milliseconds in full, whatever signals arrive. */
static inline void msleep(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0)
    if (errno != EINTR) fail("nanosleep: %s", strerror(errno));
}

/* Reaps pid (waitpid by that pid) and fails unless it exited with status. */
static inline void expect_exit(pid_t pid, int status, const char* what) {
  int st;
  pid_t r;
  while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR) {
  }
  if (r != pid) fail("%s: waitpid(%d) returned %d: %s", what, (int)pid, (int)r, strerror(errno));
  if (!WIFEXITED(st) || WEXITSTATUS(st) != status)
    fail("%s (pid %d): wait status 0x%x (%s %d), expected exit status %d", what, (int)pid, st,
         WIFEXITED(st) ? "exited" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
         status);
}

#endif
