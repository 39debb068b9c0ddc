// A program that sweeps its memory, as stencil and particle codes do: SIZE
// MiB of the bench's mixed data (mixed_data.h) in one malloc'd block, and
// each step writes one word of every 4 KiB page (zero pages get 0, pattern
// pages their pattern value, random pages a new random double, so the mix
// stays the same). Every 50 ms it prints "progress <CLOCK_MONOTONIC ns>
// <steps>" so that the driver can tell how much progress a checkpoint cost.
//   bench_sweep --mib 1024 [--seconds S]   (S: exit after S seconds; 0 = never)
//   bench_sweep --mib 1024 --floors        (prints the floors, then exits)
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "mixed_data.h"

using namespace ckpt::bench;

namespace {

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// One step: one word of each page, at a position that moves each step.
void sweep(double* d, uint64_t pages, uint64_t step, uint64_t* rng) {
  size_t j = step % kDoublesPerPage;
  for (uint64_t p = 0; p < pages; p++) {
    double* w = d + p * kDoublesPerPage + j;
    switch (page_kind(p)) {
      case PageKind::kZero:
        *static_cast<volatile double*>(w) = 0.0;
        break;
      case PageKind::kPattern:
        *static_cast<volatile double*>(w) =
            static_cast<double>(j % 8) * 0.5 + static_cast<double>(p % 13) * 0.25;
        break;
      case PageKind::kRandom:
        *w = unit_double(splitmix64(rng));
        break;
    }
  }
}

// The floors beside the figures, on the same data: one copy of it into a new
// buffer (first touch included, as a copy-first checkpoint does) and into a
// touched one, and fork() of this process (page tables copied).
void print_floors(const double* d, uint64_t bytes) {
  auto* dst = static_cast<char*>(std::malloc(bytes));
  uint64_t t0 = now_ns();
  std::memcpy(dst, d, bytes);
  asm volatile("" : : "r"(dst) : "memory");  // the copy is used
  uint64_t t1 = now_ns();
  std::memcpy(dst, d, bytes);
  asm volatile("" : : "r"(dst) : "memory");
  uint64_t t2 = now_ns();
  std::free(dst);
  uint64_t t3 = now_ns();
  pid_t pid = fork();
  uint64_t t4 = now_ns();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
  std::printf("floors memcpy_new_s=%.4f memcpy_touched_s=%.4f fork_s=%.4f\n", (t1 - t0) / 1e9,
              (t2 - t1) / 1e9, (t4 - t3) / 1e9);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t mib = 1024;
  double seconds = 0;
  bool floors = argc > 1 && !std::strcmp(argv[argc - 1], "--floors");
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--mib")) mib = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--seconds")) seconds = std::strtod(argv[i + 1], nullptr);
  }
  uint64_t bytes = mib << 20, pages = bytes / kPageSize;
  auto* d = static_cast<double*>(std::malloc(bytes));
  if (!d) {
    std::fprintf(stderr, "bench_sweep: cannot allocate %llu MiB\n",
                 static_cast<unsigned long long>(mib));
    return 1;
  }
  fill_mixed(d, bytes, 0, 1);
  if (floors) {
    print_floors(d, bytes);
    return 0;
  }
  uint64_t rng = 42, steps = 0, start = now_ns(), next_print = start;
  std::printf("ready %llu\n", static_cast<unsigned long long>(start));
  std::fflush(stdout);
  for (;;) {
    sweep(d, pages, steps, &rng);
    steps++;
    uint64_t t = now_ns();
    if (t >= next_print) {
      std::printf("progress %llu %llu\n", static_cast<unsigned long long>(t),
                  static_cast<unsigned long long>(steps));
      std::fflush(stdout);
      next_print = t + 50000000ull;
    }
    if (seconds > 0 && static_cast<double>(t - start) > seconds * 1e9) break;
  }
  return 0;
}
