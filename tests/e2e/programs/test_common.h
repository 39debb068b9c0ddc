/* What the end-to-end test programs share: failing with one "FAIL: reason"
 * line (from any thread) and a deterministic hash step for their checksums. */
#ifndef CKPT_E2E_TEST_COMMON_H
#define CKPT_E2E_TEST_COMMON_H

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
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

#endif
