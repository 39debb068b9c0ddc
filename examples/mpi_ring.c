/* mpi_ring: large messages around a ring of MPI ranks, each verified on
 * receipt, for trying and testing checkpoint/restart of MPI jobs.
 *
 *   mpirun -np P mpi_ring [STEPS=100] [KIB=1024] [SLEEP_MS=20] [MODE=exchange] [DELAY_MS=0]
 *
 * MODE exchange: every step, every rank sends a KIB KiB message to the next
 * rank and receives one from the previous (MPI_Irecv/MPI_Isend/MPI_Waitall).
 * MODE token: one message travels the ring: rank 0 sleeps DELAY_MS, sends,
 * and receives it back; every other rank waits for it in a blocking
 * MPI_Recv, checks it and passes it on. The content of a message is a
 * function of (step, sender), checked word by word on receipt. Each rank
 * adds what it received into a checksum; rank 0 prints "step I <sum>" (the
 * MPI_Allreduce of the checksums, an integer sum: deterministic) per step and
 * "checksum <hex>" at the end. A wrong word prints "FAIL: reason". */
#include <inttypes.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int rank, size;

static void fail(const char* what, long a, long b) {
  printf("FAIL: rank %d: %s (%ld, %ld)\n", rank, what, a, b);
  fflush(stdout);
  MPI_Abort(MPI_COMM_WORLD, 1);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static uint64_t word(int step, int sender, size_t i) {
  uint64_t z = ((uint64_t)step << 40) ^ ((uint64_t)sender << 32) ^ i;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static void fill(uint64_t* buf, size_t words, int step, int sender) {
  for (size_t i = 0; i < words; i++) buf[i] = word(step, sender, i);
}

/* Checks a message from `sender` and folds it into the checksum. */
static uint64_t check(const uint64_t* buf, size_t words, int step, int sender) {
  uint64_t sum = 0;
  for (size_t i = 0; i < words; i++) {
    if (buf[i] != word(step, sender, i))
      fail("wrong word in a message (step, word)", step, (long)i);
    sum += buf[i] * (i + 1);
  }
  return sum;
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int steps = argc > 1 ? atoi(argv[1]) : 100;
  long kib = argc > 2 ? atol(argv[2]) : 1024;
  long sleep = argc > 3 ? atol(argv[3]) : 20;
  int token = argc > 4 && strcmp(argv[4], "token") == 0;
  long delay = argc > 5 ? atol(argv[5]) : 0;
  size_t words = (size_t)kib * 1024 / sizeof(uint64_t);
  uint64_t* out = malloc(words * sizeof(uint64_t));
  uint64_t* in = malloc(words * sizeof(uint64_t));
  if (!out || !in || words == 0) fail("cannot allocate the messages (KiB)", kib, 0);
  int next = (rank + 1) % size, prev = (rank + size - 1) % size;
  uint64_t mine = 0, total = 0;
  for (int step = 1; step <= steps; step++) {
    if (!token) {
      fill(out, words, step, rank);
      MPI_Request req[2];
      MPI_Irecv(in, (int)words, MPI_UINT64_T, prev, step, MPI_COMM_WORLD, &req[0]);
      MPI_Isend(out, (int)words, MPI_UINT64_T, next, step, MPI_COMM_WORLD, &req[1]);
      MPI_Status st[2];
      MPI_Waitall(2, req, st);
      mine += check(in, words, step, prev);
    } else if (rank == 0) {
      if (delay > 0) sleep_ms(delay);
      fill(out, words, step, 0);
      MPI_Send(out, (int)words, MPI_UINT64_T, next, step, MPI_COMM_WORLD);
      MPI_Recv(in, (int)words, MPI_UINT64_T, prev, step, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      mine += check(in, words, step, 0);
    } else {
      MPI_Recv(in, (int)words, MPI_UINT64_T, prev, step, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      mine += check(in, words, step, 0); /* the token is rank 0's message */
      MPI_Send(in, (int)words, MPI_UINT64_T, next, step, MPI_COMM_WORLD);
    }
    MPI_Allreduce(&mine, &total, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0) {
      printf("step %d %016" PRIx64 "\n", step, total);
      fflush(stdout);
    }
    if (sleep > 0) sleep_ms(sleep);
  }
  if (rank == 0) {
    printf("checksum %016" PRIx64 "\n", total);
    fflush(stdout);
  }
  free(out);
  free(in);
  MPI_Finalize();
  return 0;
}
