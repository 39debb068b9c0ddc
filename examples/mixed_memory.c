/* mixed_memory: a deterministic program with a few hundred MiB of mixed
 * memory, for trying and testing checkpoint/restart.
 *
 *   mixed_memory [MIB=300] [STEPS=100] [SLEEP_MS=30] [SEED=1]
 *
 * Per 4 KiB page of the big buffer: 25% all zero, 25% a repeating pattern of
 * doubles, 50% pseudo-random doubles (splitmix64, seeded by SEED). Each step
 * updates one slice of the random pages, checks the zero and pattern pages of
 * that slice, checksums the whole buffer, runs an AVX (or SSE2) register
 * loop, exercises the stack, some anonymous mmap regions and the malloc heap,
 * then sleeps. It prints "step I <hash>" per step and "checksum <hex>" at the
 * end. Same arguments, same output. Any self-check failure prints
 * "FAIL: reason" and exits 1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u
#define DOUBLES_PER_PAGE (PAGE / sizeof(double))
#define NSLICES 16u
#define NHEAP 3000u
#define STACK_DEPTH 48

static void fail(const char* what, uint64_t a, uint64_t b) {
  printf("FAIL: %s (%" PRIu64 ", %" PRIu64 ")\n", what, a, b);
  fflush(stdout);
  exit(1);
}

static uint64_t splitmix64(uint64_t* s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static uint64_t mix(uint64_t h, uint64_t v) {
  uint64_t s = h ^ v;
  return splitmix64(&s);
}

static double unit_double(uint64_t r) { return (double)(r >> 11) * 0x1.0p-53; }

/* --- The big buffer ------------------------------------------------------ */

enum PageKind { kZero, kPattern, kRandom };

static enum PageKind page_kind(uint64_t p) {
  switch (p % 4) {
    case 0: return kZero;
    case 1: return kPattern;
    default: return kRandom;
  }
}

static double pattern_value(uint64_t p, unsigned j) {
  return (double)(j % 8) * 0.5 + (double)(p % 13) * 0.25;
}

/* The initial value of double j of random page p. */
static double random_value(uint64_t seed, uint64_t p, unsigned j) {
  uint64_t s = seed * 0x100000001b3ull + p * DOUBLES_PER_PAGE + j;
  return unit_double(splitmix64(&s));
}

/* One update of a random double; exact in IEEE arithmetic. */
static double update(double x) { return x * 0.75 + 0.125; }

static void fill_page(double* d, uint64_t seed, uint64_t p) {
  switch (page_kind(p)) {
    case kZero: break; /* fresh anonymous memory is zero: leave untouched */
    case kPattern:
      for (unsigned j = 0; j < DOUBLES_PER_PAGE; j++) d[j] = pattern_value(p, j);
      break;
    case kRandom:
      for (unsigned j = 0; j < DOUBLES_PER_PAGE; j++) d[j] = random_value(seed, p, j);
      break;
  }
}

static void check_page(const double* d, uint64_t p) {
  const uint64_t* w = (const uint64_t*)d;
  if (page_kind(p) == kZero) {
    for (unsigned j = 0; j < DOUBLES_PER_PAGE; j++)
      if (w[j] != 0) fail("zero page changed", p, j);
  } else if (page_kind(p) == kPattern) {
    for (unsigned j = 0; j < DOUBLES_PER_PAGE; j++)
      if (d[j] != pattern_value(p, j)) fail("pattern page changed", p, j);
  }
}

/* Position-sensitive checksum of the whole buffer (vectorizable inner loop). */
static uint64_t checksum_buffer(const uint64_t* w, uint64_t npages) {
  uint64_t h = 0;
  for (uint64_t p = 0; p < npages; p++) {
    const uint64_t* q = w + p * (PAGE / 8);
    uint64_t s = 0;
    for (unsigned j = 0; j < PAGE / 8; j++) s += q[j] * (2 * (uint64_t)j + 1);
    h = mix(h, s + p);
  }
  return h;
}

/* --- Registers: an AVX (or SSE2) accumulator that lives in registers ----- */

/* Runs `iters` rounds on eight lanes kept in vector registers for the whole
 * loop (a = a + add; b = b + a * mul: growing, never converging), so a
 * checkpoint that lands here checks that vector registers come back intact. */
static void vector_loop(double acc[8], const double mul[4], const double add[4], long iters) {
  if (__builtin_cpu_supports("avx")) {
    __asm__ volatile(
        "vmovupd (%[a]), %%ymm0\n\t"
        "vmovupd 32(%[a]), %%ymm1\n\t"
        "vmovupd (%[m]), %%ymm2\n\t"
        "vmovupd (%[d]), %%ymm3\n\t"
        "1:\n\t"
        "vaddpd %%ymm3, %%ymm0, %%ymm0\n\t"
        "vmulpd %%ymm2, %%ymm0, %%ymm4\n\t"
        "vaddpd %%ymm4, %%ymm1, %%ymm1\n\t"
        "dec %[n]\n\t"
        "jnz 1b\n\t"
        "vmovupd %%ymm0, (%[a])\n\t"
        "vmovupd %%ymm1, 32(%[a])\n\t"
        "vzeroupper\n\t"
        : [n] "+r"(iters)
        : [a] "r"(acc), [m] "r"(mul), [d] "r"(add)
        : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "memory", "cc");
  } else {
    for (int half = 0; half < 2; half++) {
      long n = iters;
      __asm__ volatile(
          "movupd (%[a]), %%xmm0\n\t"
          "movupd 32(%[a]), %%xmm1\n\t"
          "movupd (%[m]), %%xmm2\n\t"
          "movupd (%[d]), %%xmm3\n\t"
          "1:\n\t"
          "addpd %%xmm3, %%xmm0\n\t"
          "movapd %%xmm0, %%xmm4\n\t"
          "mulpd %%xmm2, %%xmm4\n\t"
          "addpd %%xmm4, %%xmm1\n\t"
          "dec %[n]\n\t"
          "jnz 1b\n\t"
          "movupd %%xmm0, (%[a])\n\t"
          "movupd %%xmm1, 32(%[a])\n\t"
          : [n] "+r"(n)
          : [a] "r"(acc + 2 * half), [m] "r"(mul + 2 * half), [d] "r"(add + 2 * half)
          : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "memory", "cc");
    }
  }
}

/* x87 too: a long double accumulator. */
static long double x87_step(long double x, int i) { return x * 0.999L + (long double)i * 0.001L; }

/* --- Stack: recursion with large frames ----------------------------------- */

static uint64_t deep(int depth, uint64_t seed) {
  volatile uint64_t frame[1024]; /* 8 KiB per level */
  for (unsigned j = 0; j < 1024; j++) frame[j] = seed + depth * 1024u + j;
  uint64_t below = depth > 0 ? deep(depth - 1, mix(seed, depth)) : 0;
  uint64_t h = below;
  for (unsigned j = 0; j < 1024; j += 97) {
    if (frame[j] != seed + depth * 1024u + j) fail("stack frame changed", depth, j);
    h = mix(h, frame[j]);
  }
  return h;
}

/* --- Anonymous mmap regions ----------------------------------------------- */

struct Region {
  uint8_t* base;
  size_t size;
  size_t touched; /* bytes filled at the start */
};

static void region_fill(struct Region* r, uint64_t tag) {
  for (size_t i = 0; i < r->touched; i++) r->base[i] = (uint8_t)(i * 31 + tag);
}

static void region_check(const struct Region* r, uint64_t tag) {
  for (size_t i = 0; i < r->touched; i += 61)
    if (r->base[i] != (uint8_t)(i * 31 + tag)) fail("mmap region changed", tag, i);
  for (size_t i = r->touched; i < r->size; i += PAGE)
    if (r->base[i] != 0) fail("untouched region page not zero", tag, i);
}

/* --- Heap: many malloc sizes ---------------------------------------------- */

struct Block {
  uint8_t* p;
  size_t n;
};

static void heap_fill(struct Block* b, unsigned i) {
  for (size_t k = 0; k < b->n; k++) b->p[k] = (uint8_t)(k ^ i);
}

static uint64_t heap_check(const struct Block* blocks) {
  uint64_t h = 0;
  for (unsigned i = 0; i < NHEAP; i++) {
    if (!blocks[i].p) continue;
    for (size_t k = 0; k < blocks[i].n; k += 13)
      if (blocks[i].p[k] != (uint8_t)(k ^ i)) fail("heap block changed", i, k);
    h = mix(h, blocks[i].n + i);
  }
  return h;
}

static double monotonic_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts); /* vdso: must work after a restart */
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t arg(int argc, char** argv, int i, uint64_t dflt) {
  return argc > i ? strtoull(argv[i], NULL, 0) : dflt;
}

int main(int argc, char** argv) {
  const uint64_t mib = arg(argc, argv, 1, 300);
  const uint64_t steps = arg(argc, argv, 2, 100);
  const uint64_t sleep_ms = arg(argc, argv, 3, 30);
  const uint64_t seed = arg(argc, argv, 4, 1);
  if (mib == 0 || steps == 0) {
    fprintf(stderr, "usage: mixed_memory [MIB>0] [STEPS>0] [SLEEP_MS] [SEED]\n");
    return 2;
  }
  const uint64_t npages = mib * (1024 * 1024 / PAGE);

  /* The big buffer. */
  double* buf = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (buf == MAP_FAILED) fail("mmap of the buffer", mib, 0);
  for (uint64_t p = 0; p < npages; p++) fill_page(buf + p * DOUBLES_PER_PAGE, seed, p);

  /* A large local array that must survive on the stack. */
  uint32_t local[64 * 1024];
  for (unsigned j = 0; j < 64 * 1024; j++) local[j] = (uint32_t)(j * 2654435761u + seed);

  /* A few anonymous regions: partly touched, read-only, sparse reserve. */
  struct Region regions[3] = {
      {NULL, 8 << 20, 8 << 20},
      {NULL, 1 << 20, 1 << 20},
      {NULL, 256 << 20, 3 * PAGE}, /* mostly never touched */
  };
  for (int i = 0; i < 3; i++) {
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | (i == 2 ? MAP_NORESERVE : 0);
    regions[i].base = mmap(NULL, regions[i].size, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (regions[i].base == MAP_FAILED) fail("mmap of a region", i, 0);
    region_fill(&regions[i], i + seed);
  }
  if (mprotect(regions[1].base, regions[1].size, PROT_READ) != 0) fail("mprotect", 1, 0);

  /* Heap blocks of many sizes; free every fifth. */
  static struct Block blocks[NHEAP];
  uint64_t hs = seed;
  for (unsigned i = 0; i < NHEAP; i++) {
    uint64_t r = splitmix64(&hs);
    blocks[i].n = 1 + (r % 4 == 0 ? r % 200000 : r % 2000);
    blocks[i].p = malloc(blocks[i].n);
    if (!blocks[i].p) fail("malloc", i, blocks[i].n);
    heap_fill(&blocks[i], i);
  }
  for (unsigned i = 0; i < NHEAP; i += 5) {
    free(blocks[i].p);
    blocks[i].p = NULL;
  }

  double acc[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  const double mul[4] = {0.5, 0.25, 0.75, 0.125};
  const double add[4] = {1.0, 0.5, 0.25, 2.0};
  long double x87 = 1.0L;
  double running = 0.0; /* a double running sum carried across steps */
  uint64_t running_hash = 0;
  const uint64_t slice = (npages + NSLICES - 1) / NSLICES;
  double t_prev = monotonic_seconds();

  for (uint64_t i = 0; i < steps; i++) {
    /* Update one slice of random pages, check the other kinds in it. */
    uint64_t s = i % NSLICES;
    uint64_t end = (s + 1) * slice < npages ? (s + 1) * slice : npages;
    for (uint64_t p = s * slice; p < end; p++) {
      double* d = buf + p * DOUBLES_PER_PAGE;
      if (page_kind(p) == kRandom) {
        for (unsigned j = 0; j < DOUBLES_PER_PAGE; j++) d[j] = update(d[j]);
        running += d[p % DOUBLES_PER_PAGE];
      } else {
        check_page(d, p);
      }
    }
    uint64_t sum = checksum_buffer((const uint64_t*)buf, npages);

    vector_loop(acc, mul, add, 200000);
    x87 = x87_step(x87, (int)i);
    uint64_t stack_hash = deep(STACK_DEPTH, i);
    for (unsigned j = (unsigned)(i % 97); j < 64 * 1024; j += 97)
      if (local[j] != (uint32_t)(j * 2654435761u + seed)) fail("local array changed", i, j);
    for (int r = 0; r < 3; r++) region_check(&regions[r], r + seed);

    running_hash = mix(running_hash, sum ^ stack_hash);
    uint64_t running_bits;
    memcpy(&running_bits, &running, sizeof running_bits);
    printf("step %" PRIu64 " %016" PRIx64 " %016" PRIx64 "\n", i, running_hash, running_bits);
    fflush(stdout);

    double t = monotonic_seconds();
    if (t < t_prev) fail("CLOCK_MONOTONIC went backwards", 0, 0);
    t_prev = t;
    struct timespec ts = {(time_t)(sleep_ms / 1000), (long)(sleep_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
  }

  /* Final verification: re-derive every page from the seed. */
  uint64_t updates_per_slice[NSLICES] = {0};
  for (uint64_t i = 0; i < steps; i++) updates_per_slice[i % NSLICES]++;
  for (uint64_t p = 0; p < npages; p++) {
    const double* d = buf + p * DOUBLES_PER_PAGE;
    if (page_kind(p) != kRandom) {
      check_page(d, p);
      continue;
    }
    uint64_t n = updates_per_slice[p / slice];
    for (unsigned j = 0; j < DOUBLES_PER_PAGE; j += 7) {
      double x = random_value(seed, p, j);
      for (uint64_t k = 0; k < n; k++) x = update(x);
      if (x != d[j]) fail("random page differs from its derivation", p, j);
    }
  }
  uint64_t h = mix(running_hash, heap_check(blocks));
  for (int j = 0; j < 8; j++) {
    uint64_t bits;
    memcpy(&bits, &acc[j], sizeof bits);
    h = mix(h, bits);
  }
  double x87d = (double)x87;
  uint64_t x87_bits;
  memcpy(&x87_bits, &x87d, sizeof x87_bits);
  h = mix(h, x87_bits);
  printf("vector %.17g %.17g x87 %.17g\n", acc[0], acc[7], x87d);
  printf("checksum %016" PRIx64 "\n", h);
  fflush(stdout);
  return 0;
}
