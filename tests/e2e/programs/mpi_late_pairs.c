/* e2e test program (tests/e2e/test_mpi_packed_late.py): an MPI job whose
 * ranks on different nodes first talk to each other only when told to, after
 * a restart may have packed their old nodes onto one.
 *
 * Phase 1: ranks talk in pairs (2k with 2k+1, on one node in the test) every
 * 20 ms; the even rank of each pair looks for the file GO_FILE and passes
 * what it saw to its partner, so both leave phase 1 together. Each pair
 * leaves on its own: no message crosses pairs before. A "wait N" line goes
 * to stderr every 10 rounds (progress for the harness).
 * Phase 2: STEPS steps of a ring over all ranks (MPI_Sendrecv of a value to
 * rank+1) and an MPI_Allreduce; every rank replays all ranks' values and
 * checks what it gets ("FAIL: ..." otherwise). Rank 0 prints "step N sum X"
 * per step: the output depends only on STEPS and the number of ranks.
 *
 * usage: mpi_late_pairs GO_FILE STEPS */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_common.h"

enum { kMaxRanks = 64 };

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (argc != 3) fail("usage: mpi_late_pairs GO_FILE STEPS");
  if (size > kMaxRanks || size % 2 != 0) fail("an even number of ranks, at most %d", kMaxRanks);
  const char* go_file = argv[1];
  int steps = atoi(argv[2]);
  int partner = rank ^ 1;

  for (int round = 1;; round++) {
    int go = 0, got = -1;
    if (rank % 2 == 0) {
      struct stat st;
      go = stat(go_file, &st) == 0;
    }
    MPI_Sendrecv(&go, 1, MPI_INT, partner, 1, &got, 1, MPI_INT, partner, 1, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
    if (rank % 2 == 1) go = got;
    if (go) break;
    if (rank == 0 && round % 10 == 0) fprintf(stderr, "wait %d\n", round);
    msleep(20);
  }

  uint64_t values[kMaxRanks];
  for (int r = 0; r < size; r++) values[r] = mix(0, (uint64_t)r + 1);
  int next = (rank + 1) % size, prev = (rank + size - 1) % size;
  for (int s = 1; s <= steps; s++) {
    uint64_t got = 0;
    MPI_Sendrecv(&values[rank], 1, MPI_UINT64_T, next, 2, &got, 1, MPI_UINT64_T, prev, 2,
                 MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (got != values[prev])
      fail("rank %d step %d: %llx from rank %d, expected %llx", rank, s, (unsigned long long)got,
           prev, (unsigned long long)values[prev]);
    uint64_t sum = 0, want = 0;
    MPI_Allreduce(&values[rank], &sum, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    for (int r = 0; r < size; r++) want += values[r];
    if (sum != want)
      fail("rank %d step %d: sum %llx, expected %llx", rank, s, (unsigned long long)sum,
           (unsigned long long)want);
    if (rank == 0) {
      printf("step %d sum %016llx\n", s, (unsigned long long)sum);
      fflush(stdout);
    }
    for (int r = 0; r < size; r++) values[r] = mix(values[r], (uint64_t)s);
    msleep(30);
  }
  MPI_Finalize();
  return 0;
}
