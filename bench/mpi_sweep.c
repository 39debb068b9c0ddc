/* The MPI case of the sweep bench part (bench/bench_driver/sweep.py): every
 * rank holds MIB MiB from malloc (the bench's zero / pattern / random page
 * mix, in spirit: a quarter zero, a quarter pattern, half random) and each
 * step writes one word of every page, then all ranks meet in an
 * MPI_Allreduce, so a rank that stalls stalls the job. Rank 0 prints
 * "progress <CLOCK_MONOTONIC ns> <steps>" every 50 ms.
 *   mpirun -np 2 bench_mpi_sweep --mib 256 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t splitmix64(uint64_t* s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* One word of each page; zero pages keep 0, pattern pages their pattern. */
static uint64_t sweep(uint64_t* d, uint64_t pages, uint64_t step, uint64_t* rng) {
  uint64_t j = step % 512, sum = 0;
  for (uint64_t p = 0; p < pages; p++) {
    volatile uint64_t* w = &d[p * 512 + j];
    uint64_t v = p % 4 == 0 ? 0 : p % 4 == 1 ? (j % 8) * 3 + p % 13 : splitmix64(rng);
    *w = v;
    sum += v & 0xff;
  }
  return sum;
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  uint64_t mib = 256;
  for (int i = 1; i + 1 < argc; i += 2)
    if (!strcmp(argv[i], "--mib")) mib = strtoull(argv[i + 1], NULL, 10);
  uint64_t pages = mib * 256, rng = 1 + (uint64_t)rank;
  uint64_t* d = malloc(pages * 4096);
  if (!d) MPI_Abort(MPI_COMM_WORLD, 1);
  for (uint64_t p = 0; p < pages; p++)
    for (uint64_t j = 0; j < 512; j++)
      d[p * 512 + j] = p % 4 == 0 ? 0 : p % 4 == 1 ? (j % 8) * 3 + p % 13 : splitmix64(&rng);
  MPI_Barrier(MPI_COMM_WORLD);
  uint64_t steps = 0, next = 0;
  for (;;) {
    uint64_t local = sweep(d, pages, steps, &rng), total = 0;
    MPI_Allreduce(&local, &total, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    steps++;
    uint64_t t = now_ns();
    if (rank == 0 && t >= next) {
      printf("progress %llu %llu\n", (unsigned long long)t, (unsigned long long)steps);
      fflush(stdout);
      next = t + 50000000ull;
    }
  }
}
