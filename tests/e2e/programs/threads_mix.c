/* threads_mix: 8 pthreads mixing compute with blocking waits on shared state,
 * for the threads e2e scenario (checkpoint/restart at any moment).
 *
 *   threads_mix [STEPS=100] [PAUSE_MS=40]
 *
 * Per step the main thread sleeps PAUSE_MS (clock_nanosleep), then wakes the
 * workers, which each do deterministic work and meet it at a barrier:
 *   W0 read() on pipe A         W4 sem_wait, then produces into a condvar queue
 *   W1 poll() on pipe B         W5 locks an error-checking mutex and holds it
 *   W2 epoll_wait() on pipe C      while sleeping (nanosleep)
 *   W3 consumes the condvar     W6 holds a recursive mutex 3 deep while sleeping
 *      queue (futex waits)      W7 heavy compute, writes a table under an rwlock
 * W0..W2 read that table under the rwlock; every worker adds to a mutex
 * protected counter; W5/W6 check the error-checking mutex semantics against
 * each other through two semaphores; W5..W7 wait on a condition variable.
 * While the main thread sleeps the workers are blocked in read, poll,
 * epoll_wait, sem_wait and pthread_cond_wait; in the work phase two of them
 * sleep holding mutexes and the rest wait in pthread_barrier_wait.
 *
 * Every step each thread checks that its __thread values (and their
 * addresses), pthread_self(), gettid() and syscall(SYS_gettid) are what it
 * recorded at start, that the kernel still has its robust futex list
 * (get_robust_list), clear_child_tid address (PR_GET_TID_ADDRESS) and rseq
 * registration (re-registering glibc's area must give EBUSY), and that no
 * blocking call failed with EINTR or slept short (the
 * program installs no signal handlers: any EINTR is stray). The main thread
 * recomputes every worker's accumulator and the counter and compares.
 * W5 also holds a robust mutex for the whole run and exits holding it: the
 * main thread's lock must then report EOWNERDEAD (the kernel walks the robust
 * list of the exiting thread). At the end the main thread joins W0, W1,
 * W3..W7, cancels W2 (blocked in epoll_wait), and prints a checksum and "OK"; on any mismatch
 * "FAIL: reason", exit 1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "test_common.h"

#define NWORKERS 8
#define QUEUE_CAP 4
#define ITEMS_PER_STEP 16
#define IT_SMALL 20000
#define IT_BIG 3000000

/* Deterministic compute: an LCG walk of `iters` steps. */
static uint64_t work(uint64_t seed, unsigned iters) {
  uint64_t x = seed * 0x2545f4914f6cdd1dull + 1;
  uint64_t acc = 0;
  for (unsigned i = 0; i < iters; i++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    acc += x >> 33;
  }
  return acc ^ x;
}

static uint64_t token(int s, int pipe_idx) {
  return (uint64_t)s * 0x9e3779b97f4a7c15ull ^ (uint64_t)pipe_idx;
}
static uint64_t table_val(int s, int i) { return work((uint64_t)s * 131 + (uint64_t)i, 1000); }
static uint64_t item(int s, int j) { return (uint64_t)s * 100 + (uint64_t)j; }

/* --- Shared state ---------------------------------------------------------- */

static int steps = 100;
static int pause_ms = 40;

static pthread_barrier_t barrier; /* NWORKERS + main */

static pthread_mutex_t count_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t counter;

static pthread_mutex_t gen_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gen_cv = PTHREAD_COND_INITIALIZER;
static int gen;

static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t q_not_full = PTHREAD_COND_INITIALIZER;
static uint64_t queue[QUEUE_CAP];
static int q_head, q_len;

static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static uint64_t table[2][NWORKERS]; /* W7 writes slot s%2 in step s; readers read the other */

static sem_t go_sem, held_sem, checked_sem;
static pthread_mutex_t errcheck_mu;
static pthread_mutex_t rec_mu;
static pthread_mutex_t robust_mu; /* held by W5 from start to exit */
static uint64_t rec_shared;

static int pipe_a[2], pipe_b[2], pipe_c[2];
static int epfd;

struct worker {
  int idx;
  pthread_t handle;
  pthread_t self_seen;
  pid_t tid_seen;
  uint64_t acc;
};
static struct worker workers[NWORKERS];

/* --- Per-thread identity --------------------------------------------------- */

static __thread uint64_t tls_val;
static __thread char tls_buf[48];
static __thread int tls_init = 4242;

struct identity {
  pthread_t self;
  pid_t tid;
  uint64_t* val_addr;
  char* buf_addr;
  int* init_addr;
  uint64_t val;
  char buf[48];
  void* robust_head;
  size_t robust_len;
  int* tid_address; /* NULL when PR_GET_TID_ADDRESS is unsupported */
};

/* Kernel-side per-thread state glibc relies on. */
static void kernel_thread_state(void** robust_head, size_t* robust_len, int** tid_address) {
  if (syscall(SYS_get_robust_list, 0, robust_head, robust_len) != 0)
    fail("get_robust_list: %s", strerror(errno));
  if (prctl(PR_GET_TID_ADDRESS, tid_address, 0, 0, 0) != 0) *tid_address = NULL;
}

static void rseq_check(int idx, int s) {
  if (__rseq_size == 0) return; /* glibc did not register rseq (tunable or old kernel) */
  void* area = (char*)__builtin_thread_pointer() + __rseq_offset;
  long r = syscall(SYS_rseq, area, __rseq_size, 0, RSEQ_SIG);
  if (r != 0 && errno == EINVAL && __rseq_size != 32) r = syscall(SYS_rseq, area, 32, 0, RSEQ_SIG);
  if (r == 0)
    fail("thread %d step %d: rseq was not registered (registering glibc's area again succeeded)",
         idx, s);
  if (errno != EBUSY)
    fail("thread %d step %d: registering glibc's rseq area again gave %s, expected EBUSY", idx, s,
         strerror(errno));
  int cpu = (int)((volatile struct rseq*)area)->cpu_id;
  if (cpu < 0) fail("thread %d step %d: rseq cpu_id is %d", idx, s, cpu);
}

static void identity_record(struct identity* id, int idx) {
  tls_val = 0xabc000u + (uint64_t)idx;
  snprintf(tls_buf, sizeof tls_buf, "thread %d tls", idx);
  tls_init += idx;
  id->self = pthread_self();
  id->tid = gettid();
  id->val_addr = &tls_val;
  id->buf_addr = tls_buf;
  id->init_addr = &tls_init;
  id->val = tls_val;
  memcpy(id->buf, tls_buf, sizeof id->buf);
  kernel_thread_state(&id->robust_head, &id->robust_len, &id->tid_address);
  if (id->robust_head == NULL) fail("thread %d: no robust futex list registered", idx);
  if ((pid_t)syscall(SYS_gettid) != id->tid)
    fail("thread %d: gettid() %d != syscall(SYS_gettid) %ld", idx, id->tid, syscall(SYS_gettid));
}

static void identity_check(const struct identity* id, int idx, int s) {
  if (!pthread_equal(pthread_self(), id->self))
    fail("thread %d step %d: pthread_self() changed", idx, s);
  pid_t t1 = gettid();
  pid_t t2 = (pid_t)syscall(SYS_gettid);
  if (t1 != id->tid || t2 != id->tid)
    fail("thread %d step %d: gettid() %d / syscall(SYS_gettid) %d, recorded %d", idx, s, t1, t2,
         id->tid);
  if (&tls_val != id->val_addr || tls_buf != id->buf_addr || &tls_init != id->init_addr)
    fail("thread %d step %d: a __thread variable moved", idx, s);
  if (tls_val != id->val || memcmp(tls_buf, id->buf, sizeof tls_buf) != 0 || tls_init != 4242 + idx)
    fail("thread %d step %d: __thread values changed (val %" PRIx64 ", buf '%.40s', init %d)", idx,
         s, tls_val, tls_buf, tls_init);
  void* head;
  size_t len;
  int* tid_address;
  kernel_thread_state(&head, &len, &tid_address);
  if (head != id->robust_head || len != id->robust_len)
    fail("thread %d step %d: robust futex list is %p (len %zu), recorded %p (len %zu)", idx, s,
         head, len, id->robust_head, id->robust_len);
  if (tid_address != id->tid_address)
    fail("thread %d step %d: clear_child_tid is %p, recorded %p", idx, s, (void*)tid_address,
         (void*)id->tid_address);
  rseq_check(idx, s);
}

/* --- Blocking helpers that treat EINTR as a failure -------------------------- */

static int64_t mono_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* A sleep in progress at a checkpoint must complete: no EINTR, not short. */
static void check_slept(int64_t t0, int ms, int idx, const char* what) {
  int64_t dt = mono_ns() - t0;
  if (dt < (int64_t)ms * 1000000)
    fail("thread %d: %s: a %d ms sleep returned after %.3f ms", idx, what, ms, (double)dt / 1e6);
}

static void sleep_ms_exact(int ms, int idx, const char* what) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  int64_t t0 = mono_ns();
  if (nanosleep(&ts, NULL) != 0)
    fail("thread %d: %s nanosleep: %s (stray signal?)", idx, what, strerror(errno));
  check_slept(t0, ms, idx, what);
}

static void clock_sleep_ms(int ms, int idx, const char* what) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  int64_t t0 = mono_ns();
  int rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
  if (rc != 0) fail("thread %d: %s clock_nanosleep: %s (stray signal?)", idx, what, strerror(rc));
  check_slept(t0, ms, idx, what);
}

static uint64_t read_token(int fd, int idx) {
  uint64_t v;
  ssize_t r = read(fd, &v, sizeof v);
  if (r != (ssize_t)sizeof v)
    fail("thread %d: read pipe returned %zd: %s", idx, r, r < 0 ? strerror(errno) : "short");
  return v;
}

static void write_token(int fd, uint64_t v) {
  ssize_t w = write(fd, &v, sizeof v);
  if (w != (ssize_t)sizeof v)
    fail("main: write pipe returned %zd: %s", w, w < 0 ? strerror(errno) : "short");
}

static void xsem_wait(sem_t* sem, int idx, const char* what) {
  if (sem_wait(sem) != 0) fail("thread %d: sem_wait %s: %s", idx, what, strerror(errno));
}

static void barrier_wait(void) {
  int rc = pthread_barrier_wait(&barrier);
  if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD)
    fail("pthread_barrier_wait: %s", strerror(rc));
}

static void wait_generation(int s) {
  pthread_mutex_lock(&gen_mu);
  while (gen < s) pthread_cond_wait(&gen_cv, &gen_mu);
  pthread_mutex_unlock(&gen_mu);
}

static void add_counter(int idx, int s) {
  pthread_mutex_lock(&count_mu);
  counter += (uint64_t)(idx + 1) * (uint64_t)s;
  pthread_mutex_unlock(&count_mu);
}

static uint64_t read_table(int s, int i) {
  int rc = pthread_rwlock_rdlock(&table_lock);
  if (rc != 0) fail("rdlock: %s", strerror(rc));
  uint64_t v = table[(s + 1) % 2][i];
  pthread_rwlock_unlock(&table_lock);
  return v;
}

/* --- Contributions (shared by the workers and the main thread's check) ------ */

static uint64_t pipe_contrib(uint64_t tok, uint64_t tab) { return mix(work(tok, IT_SMALL), tab); }

static void expected_step(uint64_t* acc, int s) {
  for (int w = 0; w < 3; w++) acc[w] = mix(acc[w], pipe_contrib(token(s, w), table_val(s - 1, w)));
  for (int j = 0; j < ITEMS_PER_STEP; j++) acc[3] = mix(acc[3], item(s, j));
  acc[4] = mix(acc[4], work((uint64_t)s * 7 + 4, IT_SMALL));
  acc[5] = mix(acc[5], work((uint64_t)s * 7 + 5, IT_SMALL));
  acc[6] = mix(acc[6], (uint64_t)s * (uint64_t)(s + 1) / 2);
  acc[7] = mix(acc[7], work((uint64_t)s, IT_BIG));
}

/* --- Workers ------------------------------------------------------------------ */

static void* pipe_worker(void* arg) {
  struct worker* me = arg;
  struct identity id;
  identity_record(&id, me->idx);
  me->self_seen = id.self;
  me->tid_seen = id.tid;
  barrier_wait();
  int fd = me->idx == 0 ? pipe_a[0] : me->idx == 1 ? pipe_b[0] : pipe_c[0];
  for (int s = 1;; s++) {
    identity_check(&id, me->idx, s);
    if (me->idx == 1) {
      struct pollfd p = {.fd = fd, .events = POLLIN};
      int n = poll(&p, 1, -1);
      if (n != 1 || !(p.revents & POLLIN))
        fail("thread 1: poll returned %d (%s)", n, n < 0 ? strerror(errno) : "");
    } else if (me->idx == 2) {
      struct epoll_event ev;
      int n = epoll_wait(epfd, &ev, 1, -1); /* the end: cancelled here */
      if (n != 1) fail("thread 2: epoll_wait returned %d (%s)", n, n < 0 ? strerror(errno) : "");
    }
    if (s > steps) fail("thread %d: woken after the last step", me->idx);
    uint64_t tok = read_token(fd, me->idx);
    if (tok != token(s, me->idx))
      fail("thread %d step %d: token %" PRIx64 " out of order", me->idx, s, tok);
    me->acc = mix(me->acc, pipe_contrib(tok, read_table(s, me->idx)));
    add_counter(me->idx, s);
    barrier_wait();
    if (s == steps && me->idx != 2) break;
  }
  identity_check(&id, me->idx, steps + 1);
  return me;
}

static void* consumer(void* arg) {
  struct worker* me = arg;
  struct identity id;
  identity_record(&id, me->idx);
  me->self_seen = id.self;
  me->tid_seen = id.tid;
  barrier_wait();
  for (int s = 1; s <= steps; s++) {
    identity_check(&id, me->idx, s);
    for (int j = 0; j < ITEMS_PER_STEP; j++) {
      pthread_mutex_lock(&q_mu);
      while (q_len == 0) pthread_cond_wait(&q_not_empty, &q_mu);
      uint64_t v = queue[q_head];
      q_head = (q_head + 1) % QUEUE_CAP;
      q_len--;
      pthread_cond_signal(&q_not_full);
      pthread_mutex_unlock(&q_mu);
      if (v != item(s, j))
        fail("consumer step %d: item %d is %" PRIu64 ", expected %" PRIu64, s, j, v, item(s, j));
      me->acc = mix(me->acc, v);
    }
    add_counter(me->idx, s);
    barrier_wait();
  }
  return me;
}

static void* producer(void* arg) {
  struct worker* me = arg;
  struct identity id;
  identity_record(&id, me->idx);
  me->self_seen = id.self;
  me->tid_seen = id.tid;
  barrier_wait();
  for (int s = 1; s <= steps; s++) {
    identity_check(&id, me->idx, s);
    xsem_wait(&go_sem, me->idx, "go");
    for (int j = 0; j < ITEMS_PER_STEP; j++) {
      pthread_mutex_lock(&q_mu);
      while (q_len == QUEUE_CAP) pthread_cond_wait(&q_not_full, &q_mu);
      queue[(q_head + q_len) % QUEUE_CAP] = item(s, j);
      q_len++;
      pthread_cond_signal(&q_not_empty);
      pthread_mutex_unlock(&q_mu);
      if (j % 4 == 3) sleep_ms_exact(1, me->idx, "producer");
    }
    me->acc = mix(me->acc, work((uint64_t)s * 7 + 4, IT_SMALL));
    add_counter(me->idx, s);
    barrier_wait();
  }
  return me;
}

/* Holds the error-checking mutex while sleeping; W6 probes it meanwhile. */
static void* errcheck_holder(void* arg) {
  struct worker* me = arg;
  struct identity id;
  identity_record(&id, me->idx);
  me->self_seen = id.self;
  me->tid_seen = id.tid;
  int rc = pthread_mutex_lock(&robust_mu);
  if (rc != 0) fail("W5: lock robust mutex: %s", strerror(rc));
  barrier_wait();
  for (int s = 1; s <= steps; s++) {
    identity_check(&id, me->idx, s);
    wait_generation(s);
    rc = pthread_mutex_lock(&errcheck_mu);
    if (rc != 0) fail("W5 step %d: lock errcheck: %s", s, strerror(rc));
    sem_post(&held_sem);
    xsem_wait(&checked_sem, me->idx, "checked");
    sleep_ms_exact(25, me->idx, "holding the error-checking mutex");
    rc = pthread_mutex_lock(&errcheck_mu);
    if (rc != EDEADLK)
      fail("W5 step %d: relocking an owned error-checking mutex gave %d, expected EDEADLK", s, rc);
    rc = pthread_mutex_unlock(&errcheck_mu);
    if (rc != 0) fail("W5 step %d: unlock errcheck: %s", s, strerror(rc));
    rc = pthread_mutex_unlock(&errcheck_mu);
    if (rc != EPERM)
      fail("W5 step %d: unlocking an unowned error-checking mutex gave %d, expected EPERM", s, rc);
    identity_check(&id, me->idx, s);
    me->acc = mix(me->acc, work((uint64_t)s * 7 + 5, IT_SMALL));
    add_counter(me->idx, s);
    barrier_wait();
  }
  return me; /* still holding robust_mu */
}

/* Probes W5's mutex, then holds the recursive mutex 3 deep while sleeping. */
static void* recursive_holder(void* arg) {
  struct worker* me = arg;
  struct identity id;
  identity_record(&id, me->idx);
  me->self_seen = id.self;
  me->tid_seen = id.tid;
  barrier_wait();
  for (int s = 1; s <= steps; s++) {
    identity_check(&id, me->idx, s);
    wait_generation(s);
    xsem_wait(&held_sem, me->idx, "held");
    int rc = pthread_mutex_trylock(&errcheck_mu);
    if (rc != EBUSY)
      fail("W6 step %d: trylock of a held error-checking mutex gave %d, expected EBUSY", s, rc);
    rc = pthread_mutex_unlock(&errcheck_mu);
    if (rc != EPERM)
      fail("W6 step %d: unlocking another thread's error-checking mutex gave %d, expected EPERM", s,
           rc);
    sem_post(&checked_sem);
    for (int d = 0; d < 3; d++)
      if ((rc = pthread_mutex_lock(&rec_mu)) != 0)
        fail("W6 step %d: recursive lock depth %d: %s", s, d, strerror(rc));
    rec_shared += (uint64_t)s;
    clock_sleep_ms(20, me->idx, "holding the recursive mutex");
    uint64_t v = rec_shared;
    for (int d = 0; d < 3; d++)
      if ((rc = pthread_mutex_unlock(&rec_mu)) != 0)
        fail("W6 step %d: recursive unlock %d: %s", s, d, strerror(rc));
    rc = pthread_mutex_unlock(&rec_mu);
    if (rc != EPERM)
      fail("W6 step %d: a 4th unlock of the recursive mutex gave %d, expected EPERM", s, rc);
    me->acc = mix(me->acc, v);
    add_counter(me->idx, s);
    barrier_wait();
  }
  return me;
}

static void* compute_writer(void* arg) {
  struct worker* me = arg;
  struct identity id;
  identity_record(&id, me->idx);
  me->self_seen = id.self;
  me->tid_seen = id.tid;
  barrier_wait();
  for (int s = 1; s <= steps; s++) {
    identity_check(&id, me->idx, s);
    wait_generation(s);
    int rc = pthread_rwlock_wrlock(&table_lock);
    if (rc != 0) fail("wrlock: %s", strerror(rc));
    for (int i = 0; i < NWORKERS; i++) table[s % 2][i] = table_val(s, i);
    pthread_rwlock_unlock(&table_lock);
    me->acc = mix(me->acc, work((uint64_t)s, IT_BIG));
    identity_check(&id, me->idx, s);
    add_counter(me->idx, s);
    barrier_wait();
  }
  return me;
}

/* --- Main ----------------------------------------------------------------------- */

static void setup(void) {
  if (pthread_barrier_init(&barrier, NULL, NWORKERS + 1) != 0) fail("barrier init");
  if (sem_init(&go_sem, 0, 0) || sem_init(&held_sem, 0, 0) || sem_init(&checked_sem, 0, 0))
    fail("sem_init");
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
  if (pthread_mutex_init(&errcheck_mu, &a) != 0) fail("errcheck mutex init");
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
  if (pthread_mutex_init(&rec_mu, &a) != 0) fail("recursive mutex init");
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_NORMAL);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  if (pthread_mutex_init(&robust_mu, &a) != 0) fail("robust mutex init");
  pthread_mutexattr_destroy(&a);
  if (pipe(pipe_a) || pipe(pipe_b) || pipe(pipe_c)) fail("pipe: %s", strerror(errno));
  epfd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 2};
  if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, pipe_c[0], &ev) != 0)
    fail("epoll: %s", strerror(errno));
  for (int i = 0; i < NWORKERS; i++) table[0][i] = table_val(0, i);
}

int main(int argc, char** argv) {
  if (argc > 1) steps = atoi(argv[1]);
  if (argc > 2) pause_ms = atoi(argv[2]);
  if (steps < 1 || pause_ms < 0) fail("usage: threads_mix [STEPS] [PAUSE_MS]");
  setvbuf(stdout, NULL, _IOLBF, 0);
  setup();

  struct identity main_id;
  identity_record(&main_id, 100);
  if (main_id.tid != getpid()) fail("main: gettid() %d != getpid() %d", main_id.tid, getpid());
  pid_t pid = getpid();

  void* (*fns[NWORKERS])(void*) = {pipe_worker, pipe_worker,     pipe_worker,      consumer,
                                   producer,    errcheck_holder, recursive_holder, compute_writer};
  for (int i = 0; i < NWORKERS; i++) {
    workers[i].idx = i;
    int rc = pthread_create(&workers[i].handle, NULL, fns[i], &workers[i]);
    if (rc != 0) fail("pthread_create %d: %s", i, strerror(rc));
  }
  barrier_wait();
  pid_t tids[NWORKERS];
  for (int i = 0; i < NWORKERS; i++) {
    if (!pthread_equal(workers[i].self_seen, workers[i].handle))
      fail("worker %d: pthread_self() != pthread_create's id", i);
    tids[i] = workers[i].tid_seen;
    if (tids[i] == pid) fail("worker %d: tid equals the pid", i);
  }
  printf("threads_mix: %d workers, %d steps\n", NWORKERS, steps);

  uint64_t expect[NWORKERS] = {0};
  for (int s = 1; s <= steps; s++) {
    identity_check(&main_id, 100, s);
    if (getpid() != pid) fail("step %d: getpid() changed", s);
    clock_sleep_ms(pause_ms, 100, "main pause");
    pthread_mutex_lock(&gen_mu);
    gen = s;
    pthread_cond_broadcast(&gen_cv);
    pthread_mutex_unlock(&gen_mu);
    sem_post(&go_sem);
    write_token(pipe_a[1], token(s, 0));
    write_token(pipe_b[1], token(s, 1));
    write_token(pipe_c[1], token(s, 2));
    expected_step(expect, s);
    barrier_wait();

    pthread_mutex_lock(&count_mu);
    uint64_t c = counter;
    pthread_mutex_unlock(&count_mu);
    uint64_t want_c = 36ull * (uint64_t)s * (uint64_t)(s + 1) / 2;
    if (c != want_c) fail("step %d: counter %" PRIu64 ", expected %" PRIu64, s, c, want_c);
    uint64_t h = 0;
    for (int i = 0; i < NWORKERS; i++) {
      if (workers[i].acc != expect[i])
        fail("step %d: worker %d accumulator %016" PRIx64 ", expected %016" PRIx64, s, i,
             workers[i].acc, expect[i]);
      if (workers[i].tid_seen != tids[i]) fail("step %d: worker %d tid changed", s, i);
      h = mix(h, workers[i].acc);
    }
    printf("step %d counter=%" PRIu64 " hash=%016" PRIx64 "\n", s, c, h);
  }

  for (int i = 0; i < NWORKERS; i++) {
    if (i == 2) continue;
    void* ret;
    int rc = pthread_join(workers[i].handle, &ret);
    if (rc != 0 || ret != &workers[i]) fail("join worker %d: rc %d, ret %p", i, rc, ret);
  }
  struct timespec limit;
  clock_gettime(CLOCK_REALTIME, &limit);
  limit.tv_sec += 10;
  int rc = pthread_mutex_timedlock(&robust_mu, &limit);
  if (rc != EOWNERDEAD)
    fail(
        "end: locking the robust mutex W5 died holding gave %s, expected EOWNERDEAD (robust list "
        "lost?)",
        rc == ETIMEDOUT ? "a 10 s timeout" : strerror(rc));
  if ((rc = pthread_mutex_consistent(&robust_mu)) != 0)
    fail("end: pthread_mutex_consistent: %s", strerror(rc));
  pthread_mutex_unlock(&robust_mu);
  if ((rc = pthread_mutex_trylock(&robust_mu)) != 0)
    fail("end: robust mutex after recovery: %s", strerror(rc));
  pthread_mutex_unlock(&robust_mu);
  rc = pthread_cancel(workers[2].handle);
  if (rc != 0) fail("pthread_cancel W2: %s", strerror(rc));
  void* ret;
  rc = pthread_join(workers[2].handle, &ret);
  if (rc != 0 || ret != PTHREAD_CANCELED) fail("join cancelled W2: rc %d, ret %p", rc, ret);

  if ((rc = pthread_mutex_trylock(&errcheck_mu)) != 0)
    fail("end: errcheck mutex not free: %s", strerror(rc));
  pthread_mutex_unlock(&errcheck_mu);
  if ((rc = pthread_rwlock_trywrlock(&table_lock)) != 0)
    fail("end: rwlock not free: %s", strerror(rc));
  pthread_rwlock_unlock(&table_lock);
  int sv;
  sem_getvalue(&go_sem, &sv);
  if (sv != 0) fail("end: go semaphore is %d, expected 0", sv);
  if (q_len != 0) fail("end: queue holds %d items", q_len);

  uint64_t sum = 0;
  for (int i = 0; i < NWORKERS; i++) sum = mix(sum, workers[i].acc);
  sum = mix(sum, counter);
  sum = mix(sum, rec_shared);
  printf("threads_mix: steps=%d counter=%" PRIu64 " checksum=%016" PRIx64 "\nOK\n", steps, counter,
         sum);
  return 0;
}
