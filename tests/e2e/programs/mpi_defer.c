/* mpi_defer: steps around an MPI_Init and an MPI_Finalize that take their
 * time (fake_mpi.c), for test_mpi_defer.py.
 *
 *   mpi_defer [STEPS=60] [SLEEP_MS=50] [INIT_AT=3] [FINALIZE_AT=STEPS-5]
 *
 * Prints "step I <hash>" per step, calls MPI_Init right after step INIT_AT
 * and MPI_Finalize right after step FINALIZE_AT, then "checksum <hex>". */
#include <stdlib.h>

#include "test_common.h"

int MPI_Init(int* argc, char*** argv);
int MPI_Finalize(void);

int main(int argc, char** argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 60;
  long sleep = argc > 2 ? atol(argv[2]) : 50;
  int init_at = argc > 3 ? atoi(argv[3]) : 3;
  int finalize_at = argc > 4 ? atoi(argv[4]) : steps - 5;
  uint64_t h = 1469598103934665603ull;
  for (int i = 1; i <= steps; i++) {
    h = (h ^ (uint64_t)i) * 1099511628211ull;
    printf("step %d %016llx\n", i, (unsigned long long)h);
    fflush(stdout);
    if (i == init_at && MPI_Init(&argc, &argv) != 0) fail("MPI_Init failed");
    if (i == finalize_at && MPI_Finalize() != 0) fail("MPI_Finalize failed");
    struct timespec ts = {sleep / 1000, (sleep % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  printf("checksum %016llx\n", (unsigned long long)h);
  return 0;
}
