/* incr_memory: memory that changes shape between checkpoints, for the
 * incremental image scenarios (test_incremental.py, test_incremental_broken.py).
 *
 * Usage: incr_memory STEPS STEP_MS
 *
 * Every step, deterministically (the same in every run):
 *   - rewrites about 10% of the pages of a 24 MiB malloc'd array, and
 *     discards (MADV_DONTNEED) a few of them now and then;
 *   - every 5th step unmaps a 2 MiB mapping and maps a new one, with new
 *     content (often at the same address);
 *   - toggles a 1 MiB mapping between read-only and read-write (writing it
 *     when writable);
 *   - grows a realloc'd buffer (mremap as it grows) and the brk heap
 *     (small nodes, some freed);
 *   - every 7th step moves a 1 MiB mapping elsewhere (mremap MAYMOVE|FIXED);
 *   - runs two threads that each write their share (their stacks come and
 *     go) and one child process that sums a region and reports it through a
 *     pipe (the child lives a few milliseconds: sometimes across a checkpoint);
 * then prints "step N <hash of all of it>". A page restored wrong changes
 * every later line. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096ul
#define BIG_PAGES (24ul * 256)
#define SWAP_LEN (2ul << 20)
#define PROT_LEN (1ul << 20)
#define MOVE_LEN (1ul << 20)

static uint8_t* big;
static uint8_t* swapped;
static uint8_t* toggled;
static uint8_t* moved;
static uint8_t* grown;
static size_t grown_len;
struct node {
  struct node* next;
  uint64_t value;
  char pad[200];
};
static struct node* nodes;

static uint64_t rng(uint64_t* s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static uint64_t hash(const void* p, size_t n, uint64_t h) {
  const uint64_t* w = p;
  for (size_t i = 0; i < n / 8; i++) h = (h ^ w[i]) * 0x100000001b3ull;
  return h;
}

static void fill(uint8_t* p, size_t n, uint64_t seed) {
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng(&seed);
    memcpy(p + i, &v, 8);
  }
}

static void* map_anon(void* at, size_t len) {
  void* p = mmap(at, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("mmap");
    exit(1);
  }
  return p;
}

struct share {
  int step, part;
};

static void* thread_work(void* arg) {
  struct share* s = arg;
  uint8_t local[16384]; /* on this thread's stack */
  fill(local, sizeof(local), (uint64_t)s->step * 131 + s->part + 1);
  size_t first = BIG_PAGES / 2 + (size_t)s->part * 64;
  for (size_t i = 0; i < 64; i += 4) memcpy(big + (first + i) * PAGE + 128, local + i * 64, 64);
  return NULL;
}

static void change_big(int step) {
  uint64_t s = (uint64_t)step * 7919 + 17;
  for (size_t i = 0; i < BIG_PAGES / 10; i++) {
    size_t page = rng(&s) % BIG_PAGES;
    fill(big + page * PAGE, 512, rng(&s));
  }
  if (step % 4 == 1) madvise(big + (rng(&s) % (BIG_PAGES - 64)) * PAGE, 16 * PAGE, MADV_DONTNEED);
}

static void change_shapes(int step) {
  if (step % 5 == 0) {
    void* at = swapped;
    munmap(swapped, SWAP_LEN);
    swapped = map_anon(step % 10 == 0 ? at : NULL, SWAP_LEN);
    fill(swapped, SWAP_LEN / 2, (uint64_t)step + 99);
  }
  if (step % 3 == 0) {
    mprotect(toggled, PROT_LEN, PROT_READ);
  } else {
    mprotect(toggled, PROT_LEN, PROT_READ | PROT_WRITE);
    fill(toggled + (size_t)(step % 200) * PAGE, PAGE, (uint64_t)step);
  }
  if (step % 7 == 0) {
    void* to = map_anon(NULL, MOVE_LEN * 2); /* a free place, then move there */
    munmap((uint8_t*)to + MOVE_LEN, MOVE_LEN);
    moved = mremap(moved, MOVE_LEN, MOVE_LEN, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    if (moved == MAP_FAILED) {
      perror("mremap");
      exit(1);
    }
    moved[step % MOVE_LEN] ^= 1;
  }
  size_t more = 64 * 1024;
  grown = realloc(grown, grown_len + more);
  fill(grown + grown_len, more, (uint64_t)step * 3);
  grown_len += more;
  struct node* n = malloc(sizeof(*n));
  n->value = (uint64_t)step * step;
  n->next = nodes;
  nodes = n;
  if (step % 3 == 2 && nodes->next) { /* free the second node */
    struct node* gone = nodes->next;
    nodes->next = gone->next;
    free(gone);
  }
}

static uint64_t child_sum(int step) {
  int fds[2];
  if (pipe(fds) != 0) exit(1);
  pid_t pid = fork();
  if (pid == 0) {
    uint64_t h = hash(swapped, SWAP_LEN, (uint64_t)step);
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
    if (write(fds[1], &h, sizeof(h)) != sizeof(h)) _exit(1);
    _exit(0);
  }
  close(fds[1]);
  uint64_t h = 0;
  if (read(fds[0], &h, sizeof(h)) != sizeof(h)) exit(1);
  close(fds[0]);
  int status;
  waitpid(pid, &status, 0);
  return h;
}

static uint64_t state_hash(void) {
  uint64_t h = hash(big, BIG_PAGES * PAGE, 1469598103934665603ull);
  h = hash(swapped, SWAP_LEN, h);
  h = hash(toggled, PROT_LEN, h);
  h = hash(moved, MOVE_LEN, h);
  h = hash(grown, grown_len, h);
  for (struct node* n = nodes; n; n = n->next) h = (h ^ n->value) * 0x100000001b3ull;
  return h;
}

int main(int argc, char** argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 100;
  long step_ms = argc > 2 ? atol(argv[2]) : 30;
  setvbuf(stdout, NULL, _IOLBF, 0);
  big = malloc(BIG_PAGES * PAGE);
  fill(big, BIG_PAGES * PAGE, 5);
  swapped = map_anon(NULL, SWAP_LEN);
  toggled = map_anon(NULL, PROT_LEN);
  moved = map_anon(NULL, MOVE_LEN);
  fill(moved, MOVE_LEN, 7);
  for (int step = 1; step <= steps; step++) {
    change_big(step);
    change_shapes(step);
    pthread_t t[2];
    struct share sh[2] = {{step, 0}, {step, 1}};
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, thread_work, &sh[i]);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    uint64_t c = child_sum(step);
    printf("step %d %016llx %016llx\n", step, (unsigned long long)state_hash(),
           (unsigned long long)c);
    struct timespec ts = {step_ms / 1000, (step_ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
  }
  return 0;
}
