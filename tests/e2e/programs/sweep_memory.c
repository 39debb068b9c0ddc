/* sweep_memory: a program that writes every page of its memory each step, as
 * stencil and particle codes do (the case copy-first checkpoints are for).
 *
 *   sweep_memory [MIB=96] [STEPS=3000] [SWEEPS=8]
 *
 * MIB MiB from malloc, per 4 KiB page: a zero page (p % 4 == 0), a pattern
 * page (1) or a pseudo-random page (2, 3). Each step sweeps the block SWEEPS
 * times without sleeping, writing one 64-bit word per page (zero pages get
 * 0, pattern pages their pattern value, random pages a value derived from
 * the page, the step and the sweep), then prints "step N <hash of the words
 * written>"; every 100 steps and at the end it prints the hash of the whole
 * block. Deterministic: an uninterrupted run prints the same lines. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "test_common.h"

#define PAGE_WORDS (4096 / 8)

static uint64_t pattern(uint64_t p, uint64_t j) { return (j % 8) * 0x0101010101010101ull + p % 13; }

static void fill(uint64_t* d, uint64_t pages) {
  for (uint64_t p = 0; p < pages; p++)
    for (uint64_t j = 0; j < PAGE_WORDS; j++) {
      uint64_t* w = &d[p * PAGE_WORDS + j];
      switch (p % 4) {
        case 0:
          *w = 0;
          break;
        case 1:
          *w = pattern(p, j);
          break;
        default:
          *w = mix(p, j);
          break;
      }
    }
}

static uint64_t sweep(uint64_t* d, uint64_t pages, uint64_t step, uint64_t s) {
  uint64_t j = (step * 7 + s) % PAGE_WORDS, h = 0;
  for (uint64_t p = 0; p < pages; p++) {
    volatile uint64_t* w = &d[p * PAGE_WORDS + j];
    uint64_t v = p % 4 == 0 ? 0 : p % 4 == 1 ? pattern(p, j) : mix(mix(p, step), s);
    *w = v;
    h += v;
  }
  return h;
}

static uint64_t hash_all(const uint64_t* d, uint64_t words) {
  uint64_t h = 0;
  for (uint64_t i = 0; i < words; i++) h = h * 31 + d[i];
  return h;
}

int main(int argc, char** argv) {
  uint64_t mib = argc > 1 ? strtoull(argv[1], 0, 10) : 96;
  int steps = argc > 2 ? atoi(argv[2]) : 3000;
  int sweeps = argc > 3 ? atoi(argv[3]) : 8;
  uint64_t pages = mib * 256;
  uint64_t* d = malloc(pages * 4096);
  if (!d) fail("cannot allocate %llu MiB", (unsigned long long)mib);
  fill(d, pages);
  printf("start %llu MiB hash %016llx\n", (unsigned long long)mib,
         (unsigned long long)hash_all(d, pages * PAGE_WORDS));
  fflush(stdout);
  for (int step = 1; step <= steps; step++) {
    uint64_t h = 0;
    for (int s = 0; s < sweeps; s++) h = mix(h, sweep(d, pages, (uint64_t)step, (uint64_t)s));
    printf("step %d %016llx\n", step, (unsigned long long)h);
    if (step % 100 == 0 || step == steps)
      printf("memory after step %d: %016llx\n", step,
             (unsigned long long)hash_all(d, pages * PAGE_WORDS));
    fflush(stdout);
  }
  free(d);
  printf("done\n");
  return 0;
}
