// The lazy restart's filler process (see lazy_filler.h).
#include "lazy_filler.h"

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "common/chunk_read.h"
#include "launcher/restart/chunk_prefetch.h"
#include "launcher/restart/lazy_pieces.h"

namespace ckpt {
namespace {

constexpr uint64_t kPage = 4096;

// A lazy region in the image and where its pages start in the page tables.
struct LazyRegion {
  uint64_t start, end;
  uint64_t first;  // index of its first page in Filler::in_
};

bool stored(const image::ChunkHeader& h, uint32_t i) { return (h.bitmap[i / 64] >> (i % 64)) & 1; }

class Filler {
 public:
  explicit Filler(const FillerSetup& s) : s_(s), img_(*s.img) {}

  [[noreturn]] void run() {
    index();
    char go = 0;
    ssize_t n;
    while ((n = read(s_.go_fd, &go, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1) _exit(0);  // the restore stopped before the jump
    close(s_.go_fd);
    posix_fadvise(s_.image_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    start_ = now_ms();
    uint64_t bytes = 0;
    int workers = s_.threads;
    ChunkPrefetch ahead(img_, s_.image_fd, order_, workers, 2 * static_cast<size_t>(workers) + 2);
    for (size_t position = 0; position < order_.size(); position++) {
      size_t c = order_[position];
      wait_for_pace(bytes);
      const uint8_t* pages = nullptr;
      std::string err;
      // Faults first, while the chunk's decoding finishes.
      for (;;) {
        drain_events();
        serve_faults();
        if (ahead.take(position, 0, &pages, &err)) break;
        pollfd p[2] = {{s_.uffd, POLLIN, 0}, {ahead.ready_fd(), POLLIN, 0}};
        poll(p, 2, 100);
        ahead.drain_ready();
      }
      if (!chunk_done_[c]) {
        if (!pages) damaged(c, err);
        while (!copy_pages(c, pages)) drain_events();
        chunk_done_[c] = 1;
      }
      ahead.release(position);
      bytes += uint64_t{img_.chunks[c].hdr.stored_pages} * kPage;
    }
    drain_events();
    serve_faults();
    char done = 'D';
    if (write(s_.done_fd, &done, 1) != 1) _exit(0);
    say_done(bytes);
    serve_until_released();
  }

 private:
  static double now_ms() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
  }

  // Every page is in, but the registration lasts until the restored runtime
  // closes its copy of the userfaultfd and then its end of the done socket:
  // until then a first touch of a page the image does not store still comes
  // here (a zero page). Its end of file is the last word.
  [[noreturn]] void serve_until_released() {
    for (;;) {
      pollfd p[2] = {{s_.uffd, POLLIN, 0}, {s_.done_fd, POLLIN, 0}};
      if (poll(p, 2, -1) < 0 && errno != EINTR) _exit(0);
      if (p[0].revents) {
        drain_events();
        serve_faults();
      }
      char c;
      if (p[1].revents && read(s_.done_fd, &c, 1) <= 0) _exit(0);
    }
  }

  // CKPT_LAZY_MBPS: the background fill keeps to that rate (faults are
  // served meanwhile), to leave a shared file system to others.
  void wait_for_pace(uint64_t bytes) {
    if (s_.mbps == 0) return;
    double due = start_ + static_cast<double>(bytes) / (static_cast<double>(s_.mbps) * 1048.576);
    for (double now = now_ms(); now < due; now = now_ms()) {
      pollfd p = {s_.uffd, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(due - now) + 1) > 0) {
        drain_events();
        serve_faults();
      }
    }
  }

  // With CKPT_VERBOSE, one line once every page is in (the time on
  // CLOCK_MONOTONIC too, for bench/: run_bench.py --only lazy).
  void say_done(uint64_t bytes) const {
    if (!s_.verbose) return;
    double now = now_ms();
    rusage ru = {};
    getrusage(RUSAGE_SELF, &ru);
    double cpu_ms = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                    static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    char line[320];
    int n = std::snprintf(line, sizeof(line),
                          "ckpt_restart: lazy restart: process %d: %llu MiB in after %.0f ms, "
                          "%llu faults served, %llu unmaps, moves and drops followed, %.0f ms of "
                          "CPU (done at monotonic %.6f s)\n",
                          img_.process.vpid, static_cast<unsigned long long>(bytes >> 20),
                          now - start_, static_cast<unsigned long long>(faults_served_),
                          static_cast<unsigned long long>(events_followed_), cpu_ms, now / 1e3);
    if (n > 0 && write(s_.report_fd, line, static_cast<size_t>(n)) < 0) {
    }
  }

  // The lazy pages, the chunk of each, the chunks in address order.
  void index() {
    region_first_.assign(img_.regions.size(), UINT64_MAX);
    uint64_t pages = 0;
    for (uint32_t i = 0; i < img_.regions.size(); i++) {
      if (!(*s_.lazy)[i]) continue;
      const auto& r = img_.regions[i];
      region_first_[i] = pages;
      regions_.push_back({r.start, r.end, pages});
      pieces_.add(r.start, r.end - r.start);
      pages += (r.end - r.start) / kPage;
    }
    std::sort(regions_.begin(), regions_.end(), [](auto& a, auto& b) { return a.start < b.start; });
    in_.assign(pages, 0);
    chunk_of_.assign(pages, -1);
    chunk_done_.assign(img_.chunks.size(), 0);
    for (size_t c = 0; c < img_.chunks.size(); c++) {
      const auto& h = img_.chunks[c].hdr;
      if (h.region >= img_.regions.size() || region_first_[h.region] == UINT64_MAX) continue;
      uint64_t first = region_first_[h.region] + h.first_page;
      for (uint32_t i = 0; i < h.page_count && first + i < pages; i++)
        chunk_of_[first + i] = static_cast<int32_t>(c);
      order_.push_back(c);
    }
    std::sort(order_.begin(), order_.end(), [&](size_t a, size_t b) {
      const auto &x = img_.chunks[a].hdr, &y = img_.chunks[b].hdr;
      uint64_t xa = img_.regions[x.region].start + x.first_page * kPage;
      uint64_t ya = img_.regions[y.region].start + y.first_page * kPage;
      return xa < ya;
    });
    scratch_.reset(new uint8_t[size_t{image::kChunkPages} * kPage]);
  }

  // Index in in_ of the image page at orig, or -1.
  int64_t page_index(uint64_t orig) const {
    auto it = std::upper_bound(regions_.begin(), regions_.end(), orig,
                               [](uint64_t a, const LazyRegion& r) { return a < r.start; });
    if (it == regions_.begin()) return -1;
    --it;
    if (orig >= it->end) return -1;
    return static_cast<int64_t>(it->first + (orig - it->start) / kPage);
  }

  // Pages of [start, end) (addresses now) that must never be filled: the
  // application dropped or unmapped them.
  void mark_in(uint64_t start, uint64_t end) {
    pieces_.for_each_orig(start, end, [&](uint64_t s, uint64_t e) {
      for (uint64_t a = s; a < e; a += kPage) {
        int64_t i = page_index(a);
        if (i >= 0) in_[static_cast<size_t>(i)] = 1;
      }
    });
  }

  void apply(const uffd_msg& m) {
    if (m.event != UFFD_EVENT_PAGEFAULT) events_followed_++;
    switch (m.event) {
      case UFFD_EVENT_PAGEFAULT:
        faults_.push_back(m.arg.pagefault.address & ~(kPage - 1));
        break;
      case UFFD_EVENT_REMOVE:
        mark_in(m.arg.remove.start, m.arg.remove.end);
        break;
      case UFFD_EVENT_UNMAP:
        mark_in(m.arg.remove.start, m.arg.remove.end);
        pieces_.unmap(m.arg.remove.start, m.arg.remove.end);
        break;
      case UFFD_EVENT_REMAP:
        pieces_.remap(m.arg.remap.from, m.arg.remap.to, m.arg.remap.len);
        break;
      default:
        break;
    }
  }

  // Everything the userfaultfd has now: events applied, faults queued.
  void drain_events() {
    uffd_msg msgs[64];
    for (;;) {
      ssize_t n = read(s_.uffd, msgs, sizeof(msgs));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      for (size_t i = 0; i < static_cast<size_t>(n) / sizeof(uffd_msg); i++) apply(msgs[i]);
    }
  }

  void serve_faults() {
    while (!faults_.empty()) {
      uint64_t page = faults_.back();
      faults_.pop_back();
      serve_fault(page);
      faults_served_++;
    }
  }

  // The faulting page's chunk first; then the page itself, which the image
  // may not store (zero, never touched) or the application dropped.
  void serve_fault(uint64_t page) {
    for (;;) {
      uint64_t orig = pieces_.orig_of(page);
      int64_t i = orig ? page_index(orig) : -1;
      if (i >= 0 && !in_[static_cast<size_t>(i)] && chunk_of_[static_cast<size_t>(i)] >= 0 &&
          !chunk_done_[static_cast<size_t>(chunk_of_[static_cast<size_t>(i)])]) {
        fill_chunk(static_cast<size_t>(chunk_of_[static_cast<size_t>(i)]));
        continue;
      }
      if (zero_page(page)) return;
      drain_events();  // the mapping changed meanwhile: look again
    }
  }

  // False: the mapping is changing (events to read first).
  bool zero_page(uint64_t page) {
    uffdio_zeropage z = {};
    z.range = {page, kPage};
    if (ioctl(s_.uffd, UFFDIO_ZEROPAGE, &z) == 0) return true;
    if (errno == EAGAIN) return false;
    if (errno == ESRCH) _exit(0);  // the process is gone
    // Already there (EEXIST), or no longer ours (ENOENT): whoever waits retries.
    uffdio_range r = {page, kPage};
    ioctl(s_.uffd, UFFDIO_WAKE, &r);
    return true;
  }

  void fill_chunk(size_t c) {
    std::string err;
    if (!image::read_chunk(s_.image_fd, img_.chunks[c], scratch_.get(), payload_, &err))
      damaged(c, err);
    while (!copy_pages(c, scratch_.get())) drain_events();
    chunk_done_[c] = 1;
  }

  // Copies the chunk's stored pages that are still missing, in runs that are
  // contiguous where the application has them now. A run that the kernel
  // refuses as a whole (ENOENT: it spans two mappings, the application having
  // split one) is copied again page by page, where ENOENT means "unmapped".
  // False: retry after reading events (the mapping is changing).
  bool copy_pages(size_t c, const uint8_t* pages) {
    const auto& h = img_.chunks[c].hdr;
    uint64_t orig0 = img_.regions[h.region].start + h.first_page * kPage;
    uint8_t* in = in_.data() + region_first_[h.region] + h.first_page;
    uint32_t single_until = 0;  // pages below go one at a time
    for (uint32_t i = 0; i < h.page_count;) {
      uint64_t dst = in[i] || !stored(h, i) ? 0 : pieces_.now_of(orig0 + i * kPage);
      if (!dst) {
        if (stored(h, i)) in[i] = 1;  // in already, or unmapped since
        i++;
        continue;
      }
      uint32_t n = 1;
      while (i >= single_until && i + n < h.page_count && stored(h, i + n) && !in[i + n] &&
             pieces_.now_of(orig0 + (i + n) * kPage) == dst + n * kPage)
        n++;
      uffdio_copy cp = {};
      cp.dst = dst;
      cp.src = reinterpret_cast<uint64_t>(pages + size_t{i} * kPage);
      cp.len = n * kPage;
      if (ioctl(s_.uffd, UFFDIO_COPY, &cp) == 0) {
        std::fill(in + i, in + i + n, 1);
        i += n;
        continue;
      }
      int e = errno;
      if (cp.copy > 0) {  // a part went in
        uint32_t done = static_cast<uint32_t>(cp.copy / kPage);
        std::fill(in + i, in + i + done, 1);
        i += done;
        continue;
      }
      if (e == EAGAIN) return false;
      if (e == ESRCH) _exit(0);
      if (e == ENOENT && n > 1) {
        single_until = i + n;
        continue;
      }
      if (e != EEXIST && e != ENOENT) damaged(c, std::string("cannot copy: ") + std::strerror(e));
      in[i++] = 1;  // there already, or unmapped since
    }
    return true;
  }

  [[noreturn]] void damaged(size_t c, const std::string& why) {
    const auto& h = img_.chunks[c].hdr;
    const auto& r = img_.regions[h.region];
    char line[1024];
    int n = std::snprintf(
        line, sizeof(line),
        "ckpt_restart: lazy restart: process %d (%.*s) of generation %llu: memory region "
        "%llx-%llx cannot be restored from %s: %s (chunk %zu); the process is killed rather "
        "than run with a wrong page\n",
        img_.process.vpid, static_cast<int>(img_.process.comm.size()), img_.process.comm.data(),
        static_cast<unsigned long long>(img_.header.generation),
        static_cast<unsigned long long>(r.start), static_cast<unsigned long long>(r.end),
        img_.path.c_str(), why.c_str(), c);
    if (n > 0 &&
        write(s_.report_fd, line, std::min<size_t>(static_cast<size_t>(n), sizeof(line) - 1)) < 0) {
    }
    kill(s_.target, SIGKILL);
    _exit(1);
  }

  const FillerSetup& s_;
  const image::LoadedImage& img_;
  std::vector<uint64_t> region_first_;  // per image region; UINT64_MAX: eager
  std::vector<LazyRegion> regions_;     // sorted by start
  std::vector<uint8_t> in_;             // per lazy page: 1 = in, or must stay out
  std::vector<int32_t> chunk_of_;       // per lazy page: its chunk, -1 = none
  std::vector<uint8_t> chunk_done_;     // per chunk of the image
  std::vector<size_t> order_;           // the lazy chunks, in address order
  LazyPieces pieces_;                   // where the lazy memory is now
  std::vector<uint64_t> faults_;
  std::unique_ptr<uint8_t[]> scratch_;
  std::vector<uint8_t> payload_;
  double start_ = 0;
  uint64_t faults_served_ = 0;
  uint64_t events_followed_ = 0;
};

}  // namespace

void run_filler(const FillerSetup& setup) {
  Filler f(setup);
  f.run();
}

}  // namespace ckpt
