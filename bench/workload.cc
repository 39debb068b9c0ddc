// bench_workload: the process the whole-process benchmarks checkpoint. It
// holds SIZE bytes of mixed data (mixed_data.h), split into one slice per
// worker thread; each worker keeps rewriting random pages of its own slice in
// small bursts and measures its own pauses: the largest gap between two
// consecutive CLOCK_MONOTONIC readings of its work loop.
//
//   bench_workload --mib N | --kib N  [--threads T] --status PATH
//                  [--report-ms 10] [--burst-pages 16] [--sleep-us 1000]
//                  [--max-seconds 1800] [--seed 1] [--layout mmap|malloc]
//
// --layout mmap (default): the data is one anonymous mapping. --layout
// malloc: the data is what a plain program holds, many 64 KiB blocks from
// malloc (the heap and glibc's arenas, 4 KiB pages, no huge page advice);
// the page mix is laid over the page-aligned pages of the blocks.
//
// Every --report-ms, worker 0 rewrites PATH in place (one pwrite of a fixed
// 4 KiB record through an fd kept open, so that no file is ever open only
// for a moment or renamed while a checkpoint may land) with one line:
//   ready=1 threads=T progress=P max_gap_ns=G resumed_ns=R0,R1,.. now_ns=N
//   pid=PID sum=S
// padded with spaces. S is the FNV-1a hash (16 hex digits) of everything
// before " sum=": a reader that sees a torn record retries.
// max_gap_ns: the largest gap of any worker since the last reset (the driver
//   resets it by creating PATH.reset; the workload deletes that file once the
//   reset is done).
// resumed_ns: per worker, the CLOCK_MONOTONIC time of its first loop
//   iteration after a gap longer than 20 ms (a checkpoint pause, or a
//   restart): "the application makes progress again".
// All times are CLOCK_MONOTONIC nanoseconds (the same clock as Python's
// time.monotonic_ns()). The program exits by itself after --max-seconds.
#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "mixed_data.h"

namespace ckpt::bench {
namespace {

constexpr uint64_t kResumeGapNs = 20'000'000;
constexpr size_t kStatusBytes = 4096;

struct Options {
  uint64_t bytes = 0;
  int threads = 1;
  std::string status;
  int report_ms = 10;
  int burst_pages = 16;
  int sleep_us = 1000;
  int max_seconds = 1800;
  uint64_t seed = 1;
  bool malloc_layout = false;
};

struct alignas(64) WorkerState {
  std::atomic<uint64_t> progress{0};
  std::atomic<uint64_t> max_gap_ns{0};
  std::atomic<uint64_t> resumed_ns{0};
};

struct Shared {
  Options opts;
  char* base = nullptr;        // --layout mmap
  std::vector<char*> page_at;  // --layout malloc: page p of the data
  uint64_t pages = 0;
  int status_fd = -1;
  std::vector<WorkerState> workers;
  std::atomic<int> filled{0};
  explicit Shared(const Options& o) : opts(o), workers(static_cast<size_t>(o.threads)) {}
};

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "bench_workload: %s\nusage: bench_workload --mib N | --kib N [--threads T] "
               "--status PATH [--report-ms MS] [--burst-pages N] [--sleep-us US] "
               "[--max-seconds S] [--seed S] [--layout mmap|malloc]\n",
               why);
  std::exit(2);
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + a).c_str());
    const char* v = argv[++i];
    uint64_t n = std::strtoull(v, nullptr, 10);
    if (a == "--mib")
      o.bytes = n << 20;
    else if (a == "--kib")
      o.bytes = n << 10;
    else if (a == "--threads")
      o.threads = static_cast<int>(n);
    else if (a == "--status")
      o.status = v;
    else if (a == "--report-ms")
      o.report_ms = static_cast<int>(n);
    else if (a == "--burst-pages")
      o.burst_pages = static_cast<int>(n);
    else if (a == "--sleep-us")
      o.sleep_us = static_cast<int>(n);
    else if (a == "--max-seconds")
      o.max_seconds = static_cast<int>(n);
    else if (a == "--seed")
      o.seed = n;
    else if (a == "--layout" && (std::string(v) == "mmap" || std::string(v) == "malloc"))
      o.malloc_layout = std::string(v) == "malloc";
    else
      usage(("unknown option " + a).c_str());
  }
  if (o.bytes < kPageSize * 4 || o.status.empty()) usage("need --mib/--kib and --status");
  if (o.threads < 1 || o.threads > 128) usage("--threads must be 1..128");
  if (o.report_ms < 1) o.report_ms = 1;
  o.bytes -= o.bytes % (kPageSize * 4 * static_cast<uint64_t>(o.threads));
  return o;
}

// Page p of the data.
double* page_ptr(const Shared& s, uint64_t p) {
  char* at = s.page_at.empty() ? s.base + p * kPageSize : s.page_at[p];
  return reinterpret_cast<double*>(at);
}

// --layout malloc: 64 KiB blocks from malloc until `pages` page-aligned
// pages are collected (each block holds 15 or 16 of them). Blocks are
// never freed: the program holds its data to the end.
bool malloc_pages(Shared& s) {
  constexpr size_t kBlock = 64 * 1024;
  s.page_at.reserve(s.pages);
  while (s.page_at.size() < s.pages) {
    auto* b = static_cast<char*>(std::malloc(kBlock));
    if (!b) return false;
    auto first = (reinterpret_cast<uintptr_t>(b) + kPageSize - 1) & ~uintptr_t{kPageSize - 1};
    for (auto at = first;
         at + kPageSize <= reinterpret_cast<uintptr_t>(b) + kBlock && s.page_at.size() < s.pages;
         at += kPageSize)
      s.page_at.push_back(reinterpret_cast<char*>(at));
  }
  return true;
}

// The pages [first, end) of worker i's slice.
void slice_of(const Shared& s, int i, uint64_t* first, uint64_t* end) {
  uint64_t per = s.pages / static_cast<uint64_t>(s.opts.threads);
  *first = per * static_cast<uint64_t>(i);
  *end = *first + per;
}

// Records one loop iteration of worker `w` finished at time t.
void tick(WorkerState& w, uint64_t* last, uint64_t t) {
  uint64_t gap = t - *last;
  *last = t;
  if (gap > w.max_gap_ns.load(std::memory_order_relaxed))
    w.max_gap_ns.store(gap, std::memory_order_relaxed);
  if (gap > kResumeGapNs) w.resumed_ns.store(t, std::memory_order_relaxed);
  w.progress.fetch_add(1, std::memory_order_relaxed);
}

uint64_t fnv1a(const char* p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) h = (h ^ static_cast<uint8_t>(p[i])) * 0x100000001b3ull;
  return h;
}

// Rewrites the fixed-size status record at offset 0.
void write_status(Shared& s) {
  uint64_t progress = 0, max_gap = 0;
  std::string resumed;
  for (auto& w : s.workers) {
    progress += w.progress.load(std::memory_order_relaxed);
    max_gap = std::max(max_gap, w.max_gap_ns.load(std::memory_order_relaxed));
    if (!resumed.empty()) resumed += ",";
    resumed += std::to_string(w.resumed_ns.load(std::memory_order_relaxed));
  }
  char rec[kStatusBytes];
  int n = std::snprintf(rec, sizeof rec,
                        "ready=1 threads=%d progress=%llu max_gap_ns=%llu resumed_ns=%s "
                        "now_ns=%llu pid=%d",
                        s.opts.threads, static_cast<unsigned long long>(progress),
                        static_cast<unsigned long long>(max_gap), resumed.c_str(),
                        static_cast<unsigned long long>(now_ns()), static_cast<int>(getpid()));
  n += std::snprintf(rec + n, sizeof rec - static_cast<size_t>(n), " sum=%016llx",
                     static_cast<unsigned long long>(fnv1a(rec, static_cast<size_t>(n))));
  std::memset(rec + n, ' ', sizeof rec - static_cast<size_t>(n) - 1);
  rec[sizeof rec - 1] = '\n';
  (void)!::pwrite(s.status_fd, rec, sizeof rec, 0);  // a short write shows as a torn record
}

// Worker 0's extra duty: honour a reset request, then publish the status.
void report(Shared& s) {
  std::string reset = s.opts.status + ".reset";
  if (::access(reset.c_str(), F_OK) == 0) {
    for (auto& w : s.workers) w.max_gap_ns.store(0, std::memory_order_relaxed);
    ::unlink(reset.c_str());
  }
  write_status(s);
}

// Rewrites `count` random pages of the slice, continuing from *cursor.
void update_burst(Shared& s, uint64_t first, uint64_t end, uint64_t* cursor, uint64_t* rng,
                  int count) {
  for (int done = 0; done < count;) {
    uint64_t p = *cursor;
    *cursor = p + 1 < end ? p + 1 : first;
    if (page_kind(p) != PageKind::kRandom) continue;
    fill_random_page(page_ptr(s, p), rng);
    done++;
  }
}

void worker(Shared& s, int i) {
  uint64_t first, end;
  slice_of(s, i, &first, &end);
  if (s.page_at.empty()) {
    fill_mixed(s.base + first * kPageSize, (end - first) * kPageSize, first, s.opts.seed);
  } else {
    uint64_t rng = s.opts.seed * 0x100000001b3ull + first;
    for (uint64_t p = first; p < end; p++) fill_page(page_ptr(s, p), p, &rng);
  }
  s.filled.fetch_add(1);
  while (i == 0 && s.filled.load() < s.opts.threads) ::usleep(1000);

  WorkerState& w = s.workers[static_cast<size_t>(i)];
  uint64_t rng = s.opts.seed * 7919 + static_cast<uint64_t>(i), cursor = first;
  uint64_t start = now_ns(), last = start, next_report = start;
  uint64_t stop = start + static_cast<uint64_t>(s.opts.max_seconds) * 1'000'000'000ull;
  timespec nap{0, static_cast<long>(s.opts.sleep_us) * 1000};
  for (;;) {
    update_burst(s, first, end, &cursor, &rng, s.opts.burst_pages);
    if (s.opts.sleep_us > 0) ::nanosleep(&nap, nullptr);
    uint64_t t = now_ns();
    tick(w, &last, t);
    if (t > stop) std::exit(0);
    if (i == 0 && t >= next_report) {
      report(s);
      next_report = t + static_cast<uint64_t>(s.opts.report_ms) * 1'000'000ull;
    }
  }
}

}  // namespace
}  // namespace ckpt::bench

int main(int argc, char** argv) {
  using namespace ckpt::bench;
  Shared s(parse_options(argc, argv));
  s.pages = s.opts.bytes / kPageSize;
  if (s.opts.malloc_layout) {
    if (!malloc_pages(s)) {
      std::fprintf(stderr, "bench_workload: malloc: out of memory\n");
      return 1;
    }
  } else {
    void* p = ::mmap(nullptr, s.opts.bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      std::fprintf(stderr, "bench_workload: mmap %llu bytes: %s\n",
                   static_cast<unsigned long long>(s.opts.bytes), std::strerror(errno));
      return 1;
    }
    s.base = static_cast<char*>(p);
  }
  s.status_fd = ::open(s.opts.status.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (s.status_fd < 0) {
    std::fprintf(stderr, "bench_workload: %s: %s\n", s.opts.status.c_str(), std::strerror(errno));
    return 1;
  }
  std::vector<std::thread> threads;
  for (int i = 1; i < s.opts.threads; i++) threads.emplace_back([&s, i] { worker(s, i); });
  worker(s, 0);  // never returns
}
