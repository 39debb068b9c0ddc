/* lazy_memory: large memory touched at random, for the lazy restart e2e
 * scenarios (tests/e2e/test_lazy_*.py).
 *
 *   lazy_memory MODE MIB STEPS
 *
 * MODE single: one process, MIB MiB from mmap plus MIB/8 MiB from malloc,
 *      two threads. tree: the same in a parent and two children (MIB/3 each),
 *      each child sending its step hashes to the parent over a pipe; every 20
 *      steps the parent forks a short-lived child that hashes a slice of its
 *      memory and exits with that hash as status. shm: a parent and a child
 *      sharing an 8 MiB MAP_SHARED|MAP_ANONYMOUS block (each writes its half)
 *      besides their private MIB/2 MiB.
 * Pages are zero (p % 4 == 0), a pattern (1) or pseudo-random (2, 3). Each
 * step, each thread reads and rewrites 64 random words of its half of the
 * memory; every 10 steps the main thread drops a 64 KiB range with
 * madvise(MADV_DONTNEED) (it reads zero after), splits the large mapping
 * (mprotect of one page to read-write-execute) and moves a 2 MiB block with
 * mremap. It prints "step N <hash>" (tree and shm: the hashes of every
 * process), and every 50 steps and at the end the hash of all the memory.
 * Deterministic: an uninterrupted run prints the same lines. "FAIL: reason"
 * and exit 1 on an error. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "test_common.h"

#define PAGE 4096ull
#define WORDS (PAGE / 8)

struct Memory {
  uint64_t* big;  /* mmap'd */
  uint64_t pages; /* of big */
  uint64_t* heap; /* malloc'd */
  uint64_t heap_pages;
  uint64_t* moving; /* 2 MiB, moved by mremap */
};

struct Worker {
  uint64_t* base;
  uint64_t pages;
  uint64_t seed;
  uint64_t hash;
};

static struct Memory mem;
static struct Worker workers[2];
static pthread_barrier_t start_bar, end_bar;
static int step_now;

static void fill(uint64_t* d, uint64_t pages, uint64_t seed) {
  for (uint64_t p = 0; p < pages; p++)
    for (uint64_t j = 0; j < WORDS; j++)
      d[p * WORDS + j] = p % 4 == 0   ? 0
                         : p % 4 == 1 ? (j % 8) * 0x0101010101010101ull + p % 13
                                      : mix(mix(seed, p), j);
}

static uint64_t hash_words(const uint64_t* d, uint64_t words) {
  uint64_t h = 0;
  for (uint64_t i = 0; i < words; i++) h = h * 31 + d[i];
  return h;
}

static uint64_t touch(struct Worker* w, int step) {
  uint64_t r = mix(w->seed, (uint64_t)step), h = 0;
  for (int k = 0; k < 64; k++) {
    r = mix(r, (uint64_t)k);
    uint64_t* word = &w->base[(r % w->pages) * WORDS + (r >> 32) % WORDS];
    h = mix(h, *word);
    *word = mix(*word, (uint64_t)step);
  }
  return h;
}

static void* worker_main(void* arg) {
  struct Worker* w = arg;
  for (;;) {
    pthread_barrier_wait(&start_bar);
    w->hash = touch(w, step_now);
    pthread_barrier_wait(&end_bar);
  }
  return NULL;
}

static void setup(uint64_t mib, uint64_t seed) {
  mem.pages = mib * 256;
  mem.big =
      mmap(NULL, mem.pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem.big == MAP_FAILED) fail("mmap %llu MiB: %s", (unsigned long long)mib, strerror(errno));
  mem.heap_pages = mem.pages / 8 + 1;
  mem.heap = malloc(mem.heap_pages * PAGE);
  mem.moving = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (!mem.heap || mem.moving == MAP_FAILED) fail("allocation: %s", strerror(errno));
  fill(mem.big, mem.pages, seed);
  fill(mem.heap, mem.heap_pages, seed + 1);
  fill(mem.moving, 512, seed + 2);
  workers[0] = (struct Worker){mem.big, mem.pages / 2, seed * 3 + 1, 0};
  workers[1] =
      (struct Worker){mem.big + mem.pages / 2 * WORDS, mem.pages - mem.pages / 2, seed * 3 + 2, 0};
  pthread_barrier_init(&start_bar, NULL, 3);
  pthread_barrier_init(&end_bar, NULL, 3);
  for (int i = 0; i < 2; i++) {
    pthread_t t;
    if (pthread_create(&t, NULL, worker_main, &workers[i]) != 0) fail("pthread_create");
  }
}

/* Every 10 steps: drop 64 KiB of big, split it (one page made executable
 * too: a mapping of its own), move the 2 MiB block elsewhere. */
static void reshape(int step) {
  uint64_t at = mix((uint64_t)step, 77) % (mem.pages - 16);
  if (madvise(mem.big + at * WORDS, 16 * PAGE, MADV_DONTNEED) != 0)
    fail("madvise: %s", strerror(errno));
  uint64_t split = mix((uint64_t)step, 31) % mem.pages;
  if (mprotect(mem.big + split * WORDS, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC) != 0)
    fail("mprotect: %s", strerror(errno));
  void* hint = mmap(NULL, 4 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (hint == MAP_FAILED) fail("mmap: %s", strerror(errno));
  void* moved = mremap(mem.moving, 2 << 20, 2 << 20, MREMAP_MAYMOVE | MREMAP_FIXED, hint);
  if (moved == MAP_FAILED) fail("mremap: %s", strerror(errno));
  munmap((char*)hint + (2 << 20), 2 << 20);
  mem.moving = moved;
  mem.moving[(uint64_t)step % (512 * WORDS)] += (uint64_t)step;
}

static uint64_t one_step(int step) {
  step_now = step;
  pthread_barrier_wait(&start_bar);
  pthread_barrier_wait(&end_bar);
  uint64_t h = mix(workers[0].hash, workers[1].hash);
  uint64_t r = mix((uint64_t)step, 5);
  uint64_t* hw = &mem.heap[(r % mem.heap_pages) * WORDS + r % WORDS];
  h = mix(h, *hw);
  *hw += 1;
  if (step % 10 == 0) reshape(step);
  return mix(h, mem.moving[r % (512 * WORDS)]);
}

static uint64_t hash_all(void) {
  return mix(
      mix(hash_words(mem.big, mem.pages * WORDS), hash_words(mem.heap, mem.heap_pages * WORDS)),
      hash_words(mem.moving, 512 * WORDS));
}

/* tree: a child that hashes a slice of the memory it inherited. */
static int fork_hasher(int step) {
  pid_t pid = fork();
  if (pid < 0) fail("fork: %s", strerror(errno));
  if (pid == 0) {
    uint64_t first = mix((uint64_t)step, 9) % (mem.pages - 256);
    _exit((int)(hash_words(mem.big + first * WORDS, 256 * WORDS) % 200));
  }
  int st;
  if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) fail("hasher child: status 0x%x", st);
  return WEXITSTATUS(st);
}

/* A child steps when the parent says so: the memory they share holds still
 * while the parent hashes it. */
static void child_loop(int in, int out, int steps) {
  for (int step = 1; step <= steps; step++) {
    char go;
    if (!read_all(in, &go, 1, "parent pipe")) fail("parent ended early");
    uint64_t h[2] = {one_step(step), step % 50 == 0 || step == steps ? hash_all() : 0};
    write_all(out, h, sizeof(h), "child pipe");
  }
  _exit(0);
}

static void print_step(int step, int steps, const uint64_t* h, const uint64_t* all, int n,
                       int extra) {
  printf("step %d", step);
  for (int i = 0; i < n; i++) printf(" %016llx", (unsigned long long)h[i]);
  if (extra >= 0) printf(" hasher %d", extra);
  printf("\n");
  if (step % 50 == 0 || step == steps) {
    printf("memory after step %d:", step);
    for (int i = 0; i < n; i++) printf(" %016llx", (unsigned long long)all[i]);
    printf("\n");
  }
  fflush(stdout);
}

int main(int argc, char** argv) {
  if (argc < 4) fail("usage: lazy_memory single|tree|shm MIB STEPS");
  const char* mode = argv[1];
  uint64_t mib = strtoull(argv[2], 0, 10);
  int steps = atoi(argv[3]);
  int nkids = strcmp(mode, "tree") == 0 ? 2 : strcmp(mode, "shm") == 0 ? 1 : 0;
  uint64_t* shared = NULL;
  if (nkids == 1) {
    shared = mmap(NULL, 8 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) fail("mmap shared: %s", strerror(errno));
    fill(shared, 2048, 99);
  }
  uint64_t each = nkids ? mib / (uint64_t)(nkids + 1) : mib;
  int pipes[2][2], gos[2][2];
  for (int k = 0; k < nkids; k++) {
    if (pipe(pipes[k]) != 0 || pipe(gos[k]) != 0) fail("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) fail("fork: %s", strerror(errno));
    if (pid == 0) {
      close(pipes[k][0]);
      close(gos[k][1]);
      setup(each, 1000 + (uint64_t)k);
      if (shared) workers[1].base = shared + 1024 * WORDS, workers[1].pages = 1024;
      child_loop(gos[k][0], pipes[k][1], steps);
    }
    close(pipes[k][1]);
    close(gos[k][0]);
  }
  setup(each, 7);
  if (shared) workers[1].base = shared, workers[1].pages = 1024;
  printf("start %s %llu MiB\n", mode, (unsigned long long)mib);
  fflush(stdout);
  for (int step = 1; step <= steps; step++) {
    uint64_t h[3], all[3];
    for (int k = 0; k < nkids; k++) write_all(gos[k][1], "g", 1, "parent pipe");
    h[0] = one_step(step);
    all[0] = step % 50 == 0 || step == steps ? hash_all() : 0;
    for (int k = 0; k < nkids; k++) {
      uint64_t got[2];
      if (!read_all(pipes[k][0], got, sizeof(got), "child pipe")) fail("child %d ended early", k);
      h[k + 1] = got[0];
      all[k + 1] = got[1];
    }
    if (shared && all[0]) all[0] = mix(all[0], hash_words(shared, 2048 * WORDS));
    int extra = nkids == 2 && step % 20 == 0 ? fork_hasher(step) : -1;
    print_step(step, steps, h, all, nkids + 1, extra);
    msleep(25);
  }
  for (int k = 0; k < nkids; k++) {
    int st;
    if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) fail("child exit status 0x%x", st);
  }
  printf("done\n");
  return 0;
}
