/* thread_churn: creates and ends short-lived threads continuously, for the
 * thread stress e2e scenario (many checkpoints at random moments, so some
 * land while threads are being created, detached, cancelled or exiting).
 *
 *   thread_churn [ROUNDS=2000] [PAUSE_MS=5] [PRINT_EVERY=10]
 *
 * Each round starts 4 joinable threads (two return, two call pthread_exit),
 * 2 detached ones (one created detached, one detached by pthread_detach) that
 * report through a condition variable, and 1 that blocks in read() and is
 * cancelled (its cleanup handler counts). Every thread adds deterministic work
 * to a mutex-protected sum, checks that its __thread variables start from
 * their initial values and that gettid() is its own. The main thread checks
 * join results, the cancel, the cleanup count and the sum against a serial
 * recomputation, pauses PAUSE_MS (any EINTR is stray: no signals are used),
 * prints "step R sum=.." every PRINT_EVERY rounds, and at the end a checksum
 * and "OK"; on any mismatch "FAIL: reason" and exit 1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "test_common.h"

#define N_JOIN 4
#define N_DETACHED 2
#define WORK_ITERS 3000

static uint64_t work(uint64_t seed) {
  uint64_t x = seed * 0x2545f4914f6cdd1dull + 1, acc = 0;
  for (unsigned i = 0; i < WORK_ITERS; i++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    acc += x >> 33;
  }
  return acc ^ x;
}

static uint64_t seed_of(int round, int kind) { return (uint64_t)round * 16 + (uint64_t)kind; }

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t detached_done = PTHREAD_COND_INITIALIZER;
static uint64_t sum;
static int live_detached;
static int cleanups;
static int never_pipe[2]; /* nothing is ever written: cancel victims block on it */
static pid_t main_pid;

static __thread int tls_fresh = 77;
static __thread uint64_t tls_zero;

static void thread_checks(int round, int kind) {
  if (tls_fresh != 77 || tls_zero != 0)
    fail("round %d thread %d: new thread's __thread values are %d/%" PRIu64 ", expected 77/0",
         round, kind, tls_fresh, tls_zero);
  tls_fresh = kind;
  tls_zero = (uint64_t)round;
  pid_t t = gettid();
  if (t != (pid_t)syscall(SYS_gettid) || t == main_pid || getpid() != main_pid)
    fail("round %d thread %d: gettid %d, syscall(SYS_gettid) %ld, getpid %d, main pid %d", round,
         kind, t, syscall(SYS_gettid), getpid(), main_pid);
}

static void add_sum(uint64_t v) {
  pthread_mutex_lock(&mu);
  sum += v;
  pthread_mutex_unlock(&mu);
}

struct job {
  int round, kind;
};

static void* joinable(void* arg) {
  struct job* j = arg;
  thread_checks(j->round, j->kind);
  uint64_t v = work(seed_of(j->round, j->kind));
  add_sum(v);
  if (j->kind % 2) pthread_exit((void*)(uintptr_t)v);
  return (void*)(uintptr_t)v;
}

static void* detached(void* arg) {
  struct job* j = arg;
  thread_checks(j->round, j->kind);
  add_sum(work(seed_of(j->round, j->kind)));
  pthread_mutex_lock(&mu);
  if (--live_detached == 0) pthread_cond_signal(&detached_done);
  pthread_mutex_unlock(&mu);
  return NULL;
}

static void count_cleanup(void* arg) {
  (void)arg;
  pthread_mutex_lock(&mu);
  cleanups++;
  pthread_mutex_unlock(&mu);
}

static void* victim(void* arg) {
  struct job* j = arg;
  thread_checks(j->round, j->kind);
  add_sum(seed_of(j->round, j->kind));
  pthread_cleanup_push(count_cleanup, NULL);
  char c;
  ssize_t r = read(never_pipe[0], &c, 1); /* cancelled here */
  fail("round %d: the cancel victim's read() returned %zd (%s)", j->round, r,
       r < 0 ? strerror(errno) : "data");
  pthread_cleanup_pop(0);
  return NULL;
}

static uint64_t expected_round(int r) {
  uint64_t v = 0;
  for (int k = 0; k < N_JOIN + N_DETACHED; k++) v += work(seed_of(r, k));
  return v + seed_of(r, N_JOIN + N_DETACHED);
}

static void create(pthread_t* t, const pthread_attr_t* attr, void* (*fn)(void*), struct job* j) {
  int rc = pthread_create(t, attr, fn, j);
  if (rc != 0) fail("round %d: pthread_create: %s", j->round, strerror(rc));
}

static void one_round(int r) {
  struct job jobs[N_JOIN + N_DETACHED + 1];
  for (int k = 0; k < N_JOIN + N_DETACHED + 1; k++) jobs[k] = (struct job){r, k};
  pthread_t t[N_JOIN + N_DETACHED + 1];
  pthread_mutex_lock(&mu);
  live_detached = N_DETACHED;
  pthread_mutex_unlock(&mu);

  pthread_attr_t det;
  pthread_attr_init(&det);
  pthread_attr_setdetachstate(&det, PTHREAD_CREATE_DETACHED);
  for (int k = 0; k < N_JOIN; k++) create(&t[k], NULL, joinable, &jobs[k]);
  create(&t[N_JOIN], &det, detached, &jobs[N_JOIN]);
  create(&t[N_JOIN + 1], NULL, detached, &jobs[N_JOIN + 1]);
  int rc = pthread_detach(t[N_JOIN + 1]);
  if (rc != 0) fail("round %d: pthread_detach: %s", r, strerror(rc));
  pthread_attr_destroy(&det);
  create(&t[N_JOIN + 2], NULL, victim, &jobs[N_JOIN + 2]);

  for (int k = 0; k < N_JOIN; k++) {
    void* ret;
    rc = pthread_join(t[k], &ret);
    uint64_t want = work(seed_of(r, k));
    if (rc != 0 || (uintptr_t)ret != want)
      fail("round %d: join of thread %d: rc %d, value %" PRIxPTR ", expected %" PRIx64, r, k, rc,
           (uintptr_t)ret, want);
  }
  if ((rc = pthread_cancel(t[N_JOIN + 2])) != 0)
    fail("round %d: pthread_cancel: %s", r, strerror(rc));
  void* ret;
  rc = pthread_join(t[N_JOIN + 2], &ret);
  if (rc != 0 || ret != PTHREAD_CANCELED)
    fail("round %d: join of the cancelled thread: rc %d, ret %p", r, rc, ret);
  pthread_mutex_lock(&mu);
  while (live_detached > 0) pthread_cond_wait(&detached_done, &mu);
  int c = cleanups;
  pthread_mutex_unlock(&mu);
  if (c != r) fail("round %d: %d cleanup handlers ran, expected %d", r, c, r);
}

int main(int argc, char** argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 2000;
  int pause_ms = argc > 2 ? atoi(argv[2]) : 5;
  int every = argc > 3 ? atoi(argv[3]) : 10;
  if (rounds < 1 || pause_ms < 0 || every < 1)
    fail("usage: thread_churn [ROUNDS] [PAUSE_MS] [PRINT_EVERY]");
  setvbuf(stdout, NULL, _IOLBF, 0);
  main_pid = getpid();
  if (pipe(never_pipe) != 0) fail("pipe: %s", strerror(errno));
  printf("thread_churn: %d rounds of %d threads\n", rounds, N_JOIN + N_DETACHED + 1);

  uint64_t want = 0, check = 0;
  for (int r = 1; r <= rounds; r++) {
    one_round(r);
    want += expected_round(r);
    pthread_mutex_lock(&mu);
    uint64_t got = sum;
    pthread_mutex_unlock(&mu);
    if (got != want) fail("round %d: sum %016" PRIx64 ", expected %016" PRIx64, r, got, want);
    check = mix(check, got);
    if (r % every == 0) printf("step %d sum=%016" PRIx64 "\n", r, got);
    struct timespec ts = {pause_ms / 1000, (long)(pause_ms % 1000) * 1000000L};
    if (nanosleep(&ts, NULL) != 0)
      fail("round %d: nanosleep: %s (stray signal?)", r, strerror(errno));
  }
  printf("thread_churn: rounds=%d threads=%d cleanups=%d checksum=%016" PRIx64 "\nOK\n", rounds,
         rounds * (N_JOIN + N_DETACHED + 1), cleanups, check);
  return 0;
}
