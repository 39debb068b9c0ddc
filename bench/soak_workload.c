/* A job for the soak benchmark (bench/bench_driver/soak.py): N processes
 * (default 16) that talk every step through each kind of resource ckpt
 * restores, and check each other, so that a restart that loses, repeats or
 * corrupts anything fails at the next step.
 *
 *   bench_soak [PROCESSES=16] [STEP_MS=20]
 *
 * The first process forks the others; each then runs two worker threads
 * and, every STEP_MS, one step s:
 *  - shared memory: writes s into its slot of an anonymous MAP_SHARED region
 *    and ~s into its slot of a memfd mapping (both inherited over fork);
 *  - a ring of pipes: sends (itself, s) to the next process, reads the
 *    previous one's, which must be exactly (previous, s);
 *  - its partner (process i^1): over a UNIX socketpair (pairs 0, 2, ...) or
 *    a TCP loopback connection (pairs 1, 3, ...), sends (itself, s) and
 *    reads the partner's, which must be exactly (partner, s); the partner's
 *    shared slots must then hold s or s+1;
 *  - its threads: each worker checks then increments every word of page
 *    s % 256 of its own 1 MiB buffer (the page's words must equal 1 + the
 *    times it was touched before) and counts its steps, which must equal
 *    s + 1.
 * A failed check prints "FAIL p<i>: ..." and exits 1; the first process
 * also fails when another exits. Every 100 steps each prints "p<i> step s".
 * Prints "ready" once all are forked, then runs until killed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 64
#define WORKERS 2
#define PAGE_WORDS 512 /* 4 KiB of uint64_t */
#define PAGES 256      /* 1 MiB per worker */

struct msg {
  uint32_t from;
  uint32_t pad;
  uint64_t step;
};

struct worker {
  pthread_t thread;
  uint64_t* buf;
  uint64_t steps_done;
  int failed;
};

static int nprocs = 16;
static int me;
static int ring_in[MAX_PROCS], ring_out[MAX_PROCS]; /* pipe i: process i-1 -> i */
static int pair_fd[MAX_PROCS];                      /* this process's end, by process */
static volatile uint64_t* anon_slots;
static volatile uint64_t* memfd_slots;
static struct worker workers[WORKERS];
static pthread_barrier_t step_start, step_end;
static uint64_t cur_step;

static void fail(const char* fmt, ...) {
  char text[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  printf("FAIL p%d: %s\n", me, text);
  fflush(stdout);
  _exit(1);
}

static void full_io(int fd, void* buf, size_t len, int writing) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = writing ? write(fd, (char*)buf + done, len - done)
                        : read(fd, (char*)buf + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      fail("%s fd %d: %s", writing ? "write" : "read", fd, n == 0 ? "EOF" : strerror(errno));
    done += (size_t)n;
  }
}

static void* worker_main(void* arg) {
  struct worker* w = arg;
  for (;;) {
    pthread_barrier_wait(&step_start);
    uint64_t s = cur_step;
    uint64_t* page = w->buf + (s % PAGES) * PAGE_WORDS;
    for (int j = 0; j < PAGE_WORDS; j++) {
      if (page[j] != s / PAGES + 1) w->failed = 1;
      page[j] = s / PAGES + 2;
    }
    w->steps_done++;
    pthread_barrier_wait(&step_end);
  }
  return NULL;
}

static void start_workers(void) {
  pthread_barrier_init(&step_start, NULL, WORKERS + 1);
  pthread_barrier_init(&step_end, NULL, WORKERS + 1);
  for (int t = 0; t < WORKERS; t++) {
    workers[t].buf = malloc(PAGES * PAGE_WORDS * sizeof(uint64_t));
    /* Every page non-zero from the start: a fixed working set (a restart
     * does not bring back zero pages, which the program would then touch
     * again one by one, and the soak would see its RSS creep). */
    for (size_t j = 0; workers[t].buf && j < PAGES * PAGE_WORDS; j++) workers[t].buf[j] = 1;
    if (!workers[t].buf || pthread_create(&workers[t].thread, NULL, worker_main, &workers[t]) != 0)
      fail("cannot start worker %d", t);
  }
}

static void expect(const struct msg* in, int peer, uint64_t s, const char* what) {
  if (in->from != (uint32_t)peer || in->step != s)
    fail("%s: got (p%u, step %llu), expected (p%d, step %llu)", what, in->from,
         (unsigned long long)in->step, peer, (unsigned long long)s);
}

static void check_partner_slots(int partner, uint64_t s) {
  __sync_synchronize();
  uint64_t a = anon_slots[partner], m = ~memfd_slots[partner];
  if (a != s && a != s + 1)
    fail("MAP_SHARED slot of p%d holds %llu at step %llu", partner, (unsigned long long)a,
         (unsigned long long)s);
  if (m != s && m != s + 1)
    fail("memfd slot of p%d holds %llu at step %llu", partner, (unsigned long long)m,
         (unsigned long long)s);
}

static void check_workers(uint64_t s) {
  for (int t = 0; t < WORKERS; t++) {
    if (workers[t].failed)
      fail("worker %d found its page %llu changed", t, (unsigned long long)(s % PAGES));
    if (workers[t].steps_done != s + 1)
      fail("worker %d did %llu steps, expected %llu", t, (unsigned long long)workers[t].steps_done,
           (unsigned long long)(s + 1));
  }
}

static void step(uint64_t s) {
  int prev = (me + nprocs - 1) % nprocs, partner = me ^ 1;
  anon_slots[me] = s;
  memfd_slots[me] = ~s;
  __sync_synchronize();
  cur_step = s;
  pthread_barrier_wait(&step_start);
  struct msg out = {(uint32_t)me, 0, s}, in;
  full_io(ring_out[me], &out, sizeof(out), 1);
  full_io(ring_in[me], &in, sizeof(in), 0);
  expect(&in, prev, s, "pipe ring");
  if (partner < nprocs) {
    full_io(pair_fd[me], &out, sizeof(out), 1);
    full_io(pair_fd[me], &in, sizeof(in), 0);
    expect(&in, partner, s, (me / 2) % 2 ? "TCP partner" : "socketpair partner");
    check_partner_slots(partner, s);
  }
  pthread_barrier_wait(&step_end);
  check_workers(s);
}

static volatile uint64_t* shared_slots(int memfd) {
  size_t len = MAX_PROCS * sizeof(uint64_t);
  int fd = -1;
  if (memfd) {
    fd = memfd_create("soak_slots", 0);
    if (fd < 0 || ftruncate(fd, (off_t)len) != 0) fail("memfd: %s", strerror(errno));
  }
  void* p = mmap(NULL, len, PROT_READ | PROT_WRITE, memfd ? MAP_SHARED : MAP_SHARED | MAP_ANONYMOUS,
                 fd, 0);
  if (p == MAP_FAILED) fail("mmap: %s", strerror(errno));
  return p;
}

/* A TCP loopback connection: ends[0] accepted, ends[1] connected. */
static void tcp_pair(int ends[2]) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof(a);
  if (l < 0 || bind(l, (struct sockaddr*)&a, sizeof(a)) != 0 || listen(l, 1) != 0 ||
      getsockname(l, (struct sockaddr*)&a, &len) != 0)
    fail("TCP listener: %s", strerror(errno));
  ends[1] = socket(AF_INET, SOCK_STREAM, 0);
  if (ends[1] < 0 || connect(ends[1], (struct sockaddr*)&a, sizeof(a)) != 0)
    fail("TCP connect: %s", strerror(errno));
  ends[0] = accept(l, NULL, NULL);
  if (ends[0] < 0) fail("TCP accept: %s", strerror(errno));
  close(l);
}

static void make_channels(void) {
  for (int i = 0; i < nprocs; i++) {
    int p[2];
    if (pipe(p) != 0) fail("pipe: %s", strerror(errno));
    ring_in[i] = p[0];
    ring_out[(i + nprocs - 1) % nprocs] = p[1];
  }
  for (int i = 0; i + 1 < nprocs; i += 2) {
    int ends[2];
    if ((i / 2) % 2)
      tcp_pair(ends);
    else if (socketpair(AF_UNIX, SOCK_STREAM, 0, ends) != 0)
      fail("socketpair: %s", strerror(errno));
    pair_fd[i] = ends[0];
    pair_fd[i + 1] = ends[1];
  }
}

/* Closes every channel end that process `me` does not use. */
static void keep_own_channels(void) {
  for (int i = 0; i < nprocs; i++) {
    if (i != me) close(ring_in[i]);
    if (i != me) close(ring_out[i]);
    if (i != me && (nprocs % 2 == 0 || i != nprocs - 1)) close(pair_fd[i]);
  }
}

static void check_children(void) {
  int status;
  pid_t pid = waitpid(-1, &status, WNOHANG);
  if (pid > 0) fail("child %d ended (status %d)", (int)pid, status);
}

static void run(int step_ms) {
  start_workers();
  struct timespec pause = {step_ms / 1000, (long)(step_ms % 1000) * 1000000L};
  for (uint64_t s = 0;; s++) {
    step(s);
    if (s % 100 == 0) {
      printf("p%d step %llu\n", me, (unsigned long long)s);
      fflush(stdout);
    }
    if (me == 0) check_children();
    nanosleep(&pause, NULL);
  }
}

int main(int argc, char** argv) {
  nprocs = argc > 1 ? atoi(argv[1]) : 16;
  int step_ms = argc > 2 ? atoi(argv[2]) : 20;
  if (nprocs < 2 || nprocs > MAX_PROCS || step_ms < 0) {
    fprintf(stderr, "usage: bench_soak [PROCESSES=16 (2..%d)] [STEP_MS=20]\n", MAX_PROCS);
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  anon_slots = shared_slots(0);
  memfd_slots = shared_slots(1);
  make_channels();
  for (int i = 1; i < nprocs; i++) {
    pid_t pid = fork();
    if (pid < 0) fail("fork: %s", strerror(errno));
    if (pid == 0) {
      me = i;
      break;
    }
  }
  keep_own_channels();
  if (me == 0) printf("ready\n");
  run(step_ms);
}
