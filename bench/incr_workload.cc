// bench_incr: the process of the benchmark's incremental part. It holds SIZE
// bytes of the mixed data (mixed_data.h) in one malloc'd (posix_memalign) block and, when
// told to, rewrites a fixed share of its pages (distinct pages, chosen by a
// hash of the page and the round), timing that rewrite; otherwise it loops
// every millisecond measuring its own pauses (the largest gap between two
// consecutive CLOCK_MONOTONIC readings of its loop).
//
//   bench_incr --mib N --status PATH [--percent 10] [--seed 1]
//
// PATH.rewrite (created by the driver): rewrite now, then delete it.
// PATH.reset: reset the largest gap, then delete it.
// Every 10 ms, PATH is rewritten in place (one pwrite of a 4 KiB record):
//   ready=1 progress=P max_gap_ns=G resumed_ns=0 now_ns=N rewrites=R
//   rewrite_ns=T rewrite_cpu_ns=C rewritten_pages=W pid=PID sum=S
// (the fields bench_workload writes, so that one reader serves both, plus
// the rewrite count and the last rewrite's duration, wall clock and this
// thread's CPU time: page faults included, time waiting for a CPU not). S: FNV-1a of what
// precedes " sum=". Exits after 1800 s.
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "mixed_data.h"

namespace {

using namespace ckpt::bench;

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

uint64_t cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

uint64_t fnv1a(const char* p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) h = (h ^ static_cast<uint8_t>(p[i])) * 0x100000001b3ull;
  return h;
}

struct State {
  char* base = nullptr;
  uint64_t pages = 0;
  int percent = 10;
  uint64_t seed = 1;
  int status_fd = -1;
  std::string status;
  uint64_t progress = 0, max_gap = 0, rewrites = 0, rewrite_ns = 0, rewrite_cpu_ns = 0,
           rewritten = 0;
};

void write_status(State& s) {
  char rec[4096];
  int n = std::snprintf(
      rec, sizeof rec,
      "ready=1 progress=%llu max_gap_ns=%llu resumed_ns=0 now_ns=%llu "
      "rewrites=%llu rewrite_ns=%llu rewrite_cpu_ns=%llu rewritten_pages=%llu pid=%d",
      static_cast<unsigned long long>(s.progress), static_cast<unsigned long long>(s.max_gap),
      static_cast<unsigned long long>(now_ns()), static_cast<unsigned long long>(s.rewrites),
      static_cast<unsigned long long>(s.rewrite_ns),
      static_cast<unsigned long long>(s.rewrite_cpu_ns),
      static_cast<unsigned long long>(s.rewritten), static_cast<int>(getpid()));
  n += std::snprintf(rec + n, sizeof rec - static_cast<size_t>(n), " sum=%016llx",
                     static_cast<unsigned long long>(fnv1a(rec, static_cast<size_t>(n))));
  std::memset(rec + n, ' ', sizeof rec - static_cast<size_t>(n) - 1);
  rec[sizeof rec - 1] = '\n';
  (void)!::pwrite(s.status_fd, rec, sizeof rec, 0);
}

// Rewrites every page whose hash with the round falls in `percent`%.
void rewrite(State& s) {
  uint64_t t0 = now_ns(), c0 = cpu_ns(), round = ++s.rewrites, rng = s.seed * 7919 + round, n = 0;
  for (uint64_t p = 0; p < s.pages; p++) {
    uint64_t h = p * 0x9e3779b97f4a7c15ull + round * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 31;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 29;
    if (h % 100 >= static_cast<uint64_t>(s.percent)) continue;
    fill_page(reinterpret_cast<double*>(s.base + p * kPageSize), p, &rng);
    n++;
  }
  s.rewrite_ns = now_ns() - t0;
  s.rewrite_cpu_ns = cpu_ns() - c0;  // the machine's other load does not count
  s.rewritten = n;
}

bool take(const std::string& path) {
  if (::access(path.c_str(), F_OK) != 0) return false;
  ::unlink(path.c_str());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  State s;
  uint64_t mib = 256;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--mib") mib = std::strtoull(argv[i + 1], nullptr, 10);
    if (a == "--status") s.status = argv[i + 1];
    if (a == "--percent") s.percent = std::atoi(argv[i + 1]);
    if (a == "--seed") s.seed = std::strtoull(argv[i + 1], nullptr, 10);
  }
  if (s.status.empty()) {
    std::fprintf(stderr, "usage: bench_incr --mib N --status PATH [--percent P] [--seed S]\n");
    return 2;
  }
  s.pages = mib * 256;
  // Page-aligned, so that rewriting one page of the data writes one page of
  // memory (plain malloc puts a 16-byte header first).
  void* p = nullptr;
  if (posix_memalign(&p, kPageSize, s.pages * kPageSize) == 0) s.base = static_cast<char*>(p);
  s.status_fd = ::open(s.status.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (!s.base || s.status_fd < 0) {
    std::perror("bench_incr");
    return 1;
  }
  fill_mixed(s.base, s.pages * kPageSize, 0, s.seed);
  uint64_t start = now_ns(), last = start, next_report = start;
  timespec nap{0, 1000000};
  for (;;) {
    if (take(s.status + ".rewrite")) {
      rewrite(s);
      last = now_ns();  // the rewrite is work, not a pause
    }
    if (take(s.status + ".reset")) s.max_gap = 0;
    ::nanosleep(&nap, nullptr);
    uint64_t t = now_ns();
    if (t - last > s.max_gap) s.max_gap = t - last;
    last = t;
    s.progress++;
    if (t >= next_report) {
      write_status(s);
      next_report = t + 10000000ull;
    }
    if (t - start > 1800ull * 1000000000ull) return 0;
  }
}
