/* e2e test program (tests/e2e/test_mpi_tcp.py): an MPI job whose ranks talk
 * over Open MPI's TCP transport. Each step: every rank passes a value and a
 * 256 KiB block around the ring (MPI_Sendrecv), then every few steps rank 0
 * sleeps before sending a value to each rank, which waits in MPI_Recv, and
 * finally an MPI_Allreduce. Every rank replays the whole computation of all
 * ranks locally, so it checks each value and block it receives and each sum:
 * a byte lost, duplicated or reordered by a restart fails the run with
 * "FAIL: ...". Rank 0 prints "step N ..." lines.
 *
 * usage: mpi_ring_tcp STEPS DELAY_US */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_common.h"

enum { kBlock = 256 * 1024, kMaxRanks = 64 };

static uint64_t next_value(uint64_t prev, int step) { return mix(prev, (uint64_t)step); }

/* The block a rank sends at a step: a function of its value. */
static void fill_block(unsigned char* b, uint64_t value) {
  uint64_t h = value;
  for (size_t i = 0; i < kBlock; i += 8) {
    h = mix(h, i);
    memcpy(b + i, &h, 8);
  }
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int steps = argc > 1 ? atoi(argv[1]) : 100;
  int delay = argc > 2 ? atoi(argv[2]) : 50000;
  if (size > kMaxRanks) fail("at most %d ranks", kMaxRanks);
  int next = (rank + 1) % size, prev = (rank + size - 1) % size;

  uint64_t values[kMaxRanks]; /* every rank's value, replayed locally */
  for (int r = 0; r < size; r++) values[r] = mix(0, (uint64_t)r + 1);
  static unsigned char out_block[kBlock], in_block[kBlock], want_block[kBlock];
  uint64_t acc = 0;

  for (int s = 0; s < steps; s++) {
    /* The ring: my value and block go to next, prev's come in. */
    uint64_t got = 0;
    fill_block(out_block, values[rank]);
    MPI_Sendrecv(&values[rank], 1, MPI_UINT64_T, next, 1, &got, 1, MPI_UINT64_T, prev, 1,
                 MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    MPI_Sendrecv(out_block, kBlock, MPI_BYTE, next, 2, in_block, kBlock, MPI_BYTE, prev, 2,
                 MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (got != values[prev])
      fail("rank %d step %d: ring value %llx from rank %d, expected %llx", rank, s,
           (unsigned long long)got, prev, (unsigned long long)values[prev]);
    fill_block(want_block, values[prev]);
    if (memcmp(in_block, want_block, kBlock) != 0)
      fail("rank %d step %d: the block from rank %d differs", rank, s, prev);

    /* Every third step rank 0 makes the others wait in MPI_Recv. */
    uint64_t bonus = 0;
    if (s % 3 == 0) {
      if (rank == 0) {
        usleep((useconds_t)delay * 4);
        for (int r = 1; r < size; r++) {
          uint64_t b = mix((uint64_t)s, (uint64_t)r);
          MPI_Send(&b, 1, MPI_UINT64_T, r, 3, MPI_COMM_WORLD);
        }
      } else {
        MPI_Recv(&bonus, 1, MPI_UINT64_T, 0, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (bonus != mix((uint64_t)s, (uint64_t)rank))
          fail("rank %d step %d: MPI_Recv got %llx", rank, s, (unsigned long long)bonus);
      }
    }

    /* Everyone's next value, and their sum. */
    uint64_t want_sum = 0;
    uint64_t nv[kMaxRanks];
    for (int r = 0; r < size; r++) {
      uint64_t b = (s % 3 == 0 && r != 0) ? mix((uint64_t)s, (uint64_t)r) : 0;
      nv[r] = next_value(values[(r + size - 1) % size] ^ b, s);
      want_sum += nv[r] >> 8;
    }
    memcpy(values, nv, sizeof(uint64_t) * (size_t)size);
    uint64_t mine = values[rank] >> 8, sum = 0;
    MPI_Allreduce(&mine, &sum, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    if (sum != want_sum)
      fail("rank %d step %d: MPI_Allreduce gave %llx, expected %llx", rank, s,
           (unsigned long long)sum, (unsigned long long)want_sum);
    acc = mix(acc, sum);
    if (rank == 0) {
      printf("step %d sum %016llx acc %016llx\n", s, (unsigned long long)sum,
             (unsigned long long)acc);
      fflush(stdout);
    }
    usleep((useconds_t)delay);
  }
  if (rank == 0)
    printf("done %d ranks %d steps acc %016llx\n", size, steps, (unsigned long long)acc);
  MPI_Finalize();
  return 0;
}
