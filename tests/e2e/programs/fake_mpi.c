/* fake_mpi: a stand-in MPI library for the deferral test (test_mpi_defer.py):
 * PMPI_Init and PMPI_Finalize take INIT_MS (env FAKE_MPI_MS, default 1500)
 * and append "init start <ns>", "init done <ns>" (CLOCK_REALTIME) and the
 * same for finalize to the file named by FAKE_MPI_LOG. While inside, they
 * watch the clock: a gap of more than 250 ms between two looks means the
 * thread was stopped (a checkpoint landed inside), and they print
 * "FAIL: ..." and exit 1. MPI_Init and MPI_Finalize call the PMPI_ names,
 * as real MPI libraries do, so libckpt_mpi.so's wrappers can interpose. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void note(const char* what) {
  const char* path = getenv("FAKE_MPI_LOG");
  if (!path) return;
  FILE* f = fopen(path, "a");
  if (!f) return;
  fprintf(f, "%s %lld\n", what, now_ns(CLOCK_REALTIME));
  fclose(f);
}

static int busy_section(const char* name) {
  const char* v = getenv("FAKE_MPI_MS");
  long ms = v ? atol(v) : 1500;
  char start[64], done[64];
  snprintf(start, sizeof(start), "%s start", name);
  snprintf(done, sizeof(done), "%s done", name);
  note(start);
  long long end = now_ns(CLOCK_MONOTONIC) + ms * 1000000LL, last = now_ns(CLOCK_MONOTONIC);
  for (long long t; (t = now_ns(CLOCK_MONOTONIC)) < end; last = t) {
    if (t - last > 250000000LL) {
      printf("FAIL: the thread was stopped for %lld ms inside %s\n", (t - last) / 1000000, name);
      fflush(stdout);
      exit(1);
    }
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  note(done);
  return 0;
}

int PMPI_Init(int* argc, char*** argv) {
  (void)argc;
  (void)argv;
  return busy_section("init");
}

int PMPI_Finalize(void) { return busy_section("finalize"); }

int MPI_Init(int* argc, char*** argv) { return PMPI_Init(argc, argv); }

int MPI_Finalize(void) { return PMPI_Finalize(); }
