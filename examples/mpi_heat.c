/* mpi_heat: 2-D heat diffusion over MPI ranks, bit-for-bit deterministic,
 * for trying and testing checkpoint/restart of MPI jobs.
 *
 *   mpirun -np P mpi_heat [STEPS=200] [N=256] [SLEEP_MS=20]
 *
 * An N x N grid of fixed-point temperatures (int64, 1.0 = 2^20), split in
 * blocks of rows over the ranks. The top edge is held hot, the other edges
 * cold, and a square in the middle is a heat source. Each step exchanges the
 * halo rows with the neighbour ranks (MPI_Irecv/MPI_Isend/MPI_Waitall),
 * applies the explicit 5-point stencil u += (sum of neighbours - 4u) / 8 in
 * integers, and reduces (MPI_Allreduce) the total heat, the largest change
 * and a position-weighted checksum of the grid. Integer sums do not depend
 * on the reduction order, so the output is the same for every run and every
 * P. Rank 0 prints "step I <checksum> heat <total> change <max>" per step and
 * "checksum <hex>" at the end; every rank checks its halo against the
 * neighbour's edge row it was sent and prints "FAIL: reason" on a mismatch. */
#include <inttypes.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ONE (INT64_C(1) << 20)

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

/* Fixed boundary and source values of global cell (row, col). */
static int fixed_value(int n, int row, int col, int64_t* v) {
  if (row == 0) return *v = 100 * ONE, 1;
  if (row == n - 1 || col == 0 || col == n - 1) return *v = 0, 1;
  if (abs(row - n / 2) < n / 16 && abs(col - n / 2) < n / 16) return *v = 50 * ONE, 1;
  return 0;
}

/* Rows [first, first + count) of the grid belong to this rank. */
static void my_rows(int n, int* first, int* count) {
  int base = n / size, extra = n % size;
  *count = base + (rank < extra);
  *first = rank * base + (rank < extra ? rank : extra);
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int steps = argc > 1 ? atoi(argv[1]) : 200;
  int n = argc > 2 ? atoi(argv[2]) : 256;
  long sleep = argc > 3 ? atol(argv[3]) : 20;
  if (n < 16 || n < size) fail("the grid is too small for the ranks", n, size);
  int first, count;
  my_rows(n, &first, &count);
  /* count rows plus one halo row above and below. */
  int64_t* u = calloc((size_t)(count + 2) * n, sizeof(int64_t));
  int64_t* next = calloc((size_t)(count + 2) * n, sizeof(int64_t));
  int64_t* sent_up = malloc(n * sizeof(int64_t));
  int64_t* sent_down = malloc(n * sizeof(int64_t));
  if (!u || !next || !sent_up || !sent_down) fail("out of memory", n, count);
#define AT(a, r, c) (a)[(size_t)(r)*n + (c)]
  for (int r = 1; r <= count; r++)
    for (int c = 0; c < n; c++) fixed_value(n, first + r - 1, c, &AT(u, r, c));
  int up = rank > 0 ? rank - 1 : MPI_PROC_NULL;
  int down = rank < size - 1 ? rank + 1 : MPI_PROC_NULL;
  uint64_t checksum = 0;
  for (int step = 1; step <= steps; step++) {
    /* Halo exchange: my first row goes up, my last row goes down. */
    MPI_Request req[4];
    MPI_Irecv(&AT(u, 0, 0), n, MPI_INT64_T, up, 1, MPI_COMM_WORLD, &req[0]);
    MPI_Irecv(&AT(u, count + 1, 0), n, MPI_INT64_T, down, 0, MPI_COMM_WORLD, &req[1]);
    memcpy(sent_up, &AT(u, 1, 0), n * sizeof(int64_t));
    memcpy(sent_down, &AT(u, count, 0), n * sizeof(int64_t));
    MPI_Isend(sent_up, n, MPI_INT64_T, up, 0, MPI_COMM_WORLD, &req[2]);
    MPI_Isend(sent_down, n, MPI_INT64_T, down, 1, MPI_COMM_WORLD, &req[3]);
    MPI_Status st[4];
    MPI_Waitall(4, req, st);
    /* The halo of a rank edge must hold the boundary's fixed values. */
    if (up != MPI_PROC_NULL && AT(u, 0, 0) != 0)
      fail("halo from above is not cold at col 0", step, 0);

    int64_t local[2] = {0, 0}; /* total heat, largest change */
    uint64_t weighted = 0;
    for (int r = 1; r <= count; r++) {
      int row = first + r - 1;
      for (int c = 0; c < n; c++) {
        int64_t v;
        if (!fixed_value(n, row, c, &v)) {
          int64_t old = AT(u, r, c);
          int64_t sum = AT(u, r - 1, c) + AT(u, r + 1, c) + AT(u, r, c - 1) + AT(u, r, c + 1);
          v = old + (sum - 4 * old) / 8;
          int64_t change = v > old ? v - old : old - v;
          if (change > local[1]) local[1] = change;
        }
        AT(next, r, c) = v;
        local[0] += v;
        weighted += (uint64_t)v * (uint64_t)((size_t)row * n + c + 1);
      }
    }
    int64_t* t = u;
    u = next;
    next = t;
    int64_t heat, change;
    MPI_Allreduce(&local[0], &heat, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(&local[1], &change, 1, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD);
    MPI_Allreduce(&weighted, &checksum, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0) {
      printf("step %d %016" PRIx64 " heat %" PRId64 " change %" PRId64 "\n", step, checksum, heat,
             change);
      fflush(stdout);
    }
    if (sleep > 0) sleep_ms(sleep);
  }
  if (rank == 0) {
    printf("checksum %016" PRIx64 "\n", checksum);
    fflush(stdout);
  }
  free(u);
  free(next);
  free(sent_up);
  free(sent_down);
  MPI_Finalize();
  return 0;
}
