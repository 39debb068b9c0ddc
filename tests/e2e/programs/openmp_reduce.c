/* openmp_reduce: a loop of OpenMP parallel-for reductions (libgomp thread
 * pool of 4) for the OpenMP e2e scenario.
 *
 *   openmp_reduce [STEPS=100] [PAUSE_MS=30] [N=262144]
 *
 * Each step updates an array in a parallel for, then reduces it with integer
 * +, ^ and max reductions (exact, so the result does not depend on how the
 * iterations are split), and compares with a serial recomputation. Between
 * steps the master sleeps while the pool threads idle in libgomp's futex
 * waits. A threadprivate variable set in the first region must keep its value
 * in every later region (same pool, dynamic adjustment off), and every region
 * must really run 4 threads. Prints "step I sum=.. xor=.. max=.." per step,
 * then a checksum and "OK"; on any mismatch "FAIL: reason" and exit 1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <omp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test_common.h"

#define NTHREADS 4

static uint64_t update(uint64_t a, uint64_t i, int s) {
  return mix(a, i * 0x100000001b3ull + (uint64_t)s);
}

static int tp_id = -1;
#pragma omp threadprivate(tp_id)

static void pause_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  if (nanosleep(&ts, NULL) != 0) fail("nanosleep: %s (stray signal?)", strerror(errno));
}

int main(int argc, char** argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 100;
  int ms = argc > 2 ? atoi(argv[2]) : 30;
  long n = argc > 3 ? atol(argv[3]) : 262144;
  if (steps < 1 || ms < 0 || n < NTHREADS) fail("usage: openmp_reduce [STEPS] [PAUSE_MS] [N]");
  setvbuf(stdout, NULL, _IOLBF, 0);
  omp_set_dynamic(0);

  uint64_t* a = malloc((size_t)n * sizeof *a);
  uint64_t* ref = malloc((size_t)n * sizeof *ref);
  if (!a || !ref) fail("out of memory");
  for (long i = 0; i < n; i++) a[i] = ref[i] = (uint64_t)i * 2654435761u;

  int bad_tp = 0;
#pragma omp parallel num_threads(NTHREADS)
  tp_id = 1000 + omp_get_thread_num();
  printf("openmp_reduce: %d threads, %d steps, n=%ld\n", NTHREADS, steps, n);

  uint64_t check = 0;
  for (int s = 1; s <= steps; s++) {
    uint64_t sum = 0, x = 0, mx = 0;
    int team = 0;
#pragma omp parallel num_threads(NTHREADS) reduction(+ : team, bad_tp)
    {
      team += 1;
      if (tp_id != 1000 + omp_get_thread_num()) bad_tp += 1;
#pragma omp for schedule(static)
      for (long i = 0; i < n; i++) a[i] = update(a[i], (uint64_t)i, s);
    }
    if (team != NTHREADS)
      fail("step %d: the update region ran %d threads, expected %d", s, team, NTHREADS);
    if (bad_tp) fail("step %d: %d threads lost their threadprivate value", s, bad_tp);
#pragma omp parallel for num_threads(NTHREADS) schedule(dynamic, 1024) reduction(+ : sum) reduction(^ : x) \
    reduction(max : mx)
    for (long i = 0; i < n; i++) {
      uint64_t v = a[i] >> 8;
      sum += v;
      x ^= a[i];
      if (v > mx) mx = v;
    }

    uint64_t rsum = 0, rx = 0, rmx = 0;
    for (long i = 0; i < n; i++) {
      ref[i] = update(ref[i], (uint64_t)i, s);
      uint64_t v = ref[i] >> 8;
      rsum += v;
      rx ^= ref[i];
      if (v > rmx) rmx = v;
    }
    if (sum != rsum || x != rx || mx != rmx)
      fail("step %d: parallel sum/xor/max %016" PRIx64 "/%016" PRIx64 "/%016" PRIx64
           " != serial %016" PRIx64 "/%016" PRIx64 "/%016" PRIx64,
           s, sum, x, mx, rsum, rx, rmx);
    check = mix(mix(mix(check, sum), x), mx);
    printf("step %d sum=%016" PRIx64 " xor=%016" PRIx64 " max=%016" PRIx64 "\n", s, sum, x, mx);
    pause_ms(ms);
  }
  if (memcmp(a, ref, (size_t)n * sizeof *a) != 0)
    fail("end: parallel array differs from the serial one");
  printf("openmp_reduce: steps=%d checksum=%016" PRIx64 "\nOK\n", steps, check);
  free(a);
  free(ref);
  return 0;
}
