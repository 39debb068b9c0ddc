// Dirty-page tracking with userfaultfd async write-protection and
// PAGEMAP_SCAN (see dirty_tracking.h).
#include "dirty_tracking.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "ckpt/maps.h"
#include "ckpt/sys.h"
#include "high_fd.h"
#include "memory_capture.h"
#include "proc_files.h"
#include "runtime_ranges.h"

namespace ckpt {
namespace {

// The kernel ABI beyond this machine's <linux/userfaultfd.h> and
// <linux/fs.h> (Linux 6.7: include/uapi/linux/userfaultfd.h, fs.h).
constexpr uint64_t kUffdFeatureWpAsync = 1ull << 15;
constexpr long kSysUserfaultfd = 323;
constexpr int kUffdUserModeOnly = 1;
constexpr uint64_t kPageIsWritten = 1 << 1;
constexpr uint64_t kPageIsPresent = 1 << 3;
constexpr uint64_t kPageIsSwapped = 1 << 4;
constexpr uint64_t kScanWpMatching = 1 << 0;
constexpr uint64_t kScanCheckWpAsync = 1 << 1;

struct PageRegion {  // struct page_region
  uint64_t start, end, categories;
};

struct PmScanArg {  // struct pm_scan_arg
  uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
  uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
static_assert(sizeof(PmScanArg) == 96);

// _IOWR('f', 16, struct pm_scan_arg)
constexpr unsigned long kPagemapScan = (3ul << 30) | (sizeof(PmScanArg) << 16) | ('f' << 8) | 16;

constexpr uint64_t kPage = 4096;
constexpr int kMaxVmas = kMaxRegions;
constexpr uint32_t kMaxRanges = 1u << 21;  // 32 MiB of address space, touched as used
constexpr uint32_t kVecLen = 4096;

// Everything the scan keeps, in one mapping left out of the image.
struct Arena {
  TrackedVma vmas[kMaxVmas];
  PageRegion vec[kVecLen];
  PageRange ranges[kMaxRanges];
  TrackedVma pre_vmas[kMaxVmas];  // the pre-scan's (its written ranges only)
  PageRange pre_ranges[kMaxRanges];
};

struct State {
  int fd = -1;
  int32_t owner_pid = 0;
  bool probed = false;
  image::Tracking mode = image::Tracking::kNone;
  const char* note = "";
  Arena* arena = nullptr;
  int n_vmas = 0;
  uint32_t n_ranges = 0;
  uint64_t scan_generation = 0;
  // The pre-scan waiting for its generation's scan (0: none), and whether
  // one was lost (given up, or failed half-way).
  uint64_t pre_generation = 0;
  bool pre_lost = false;
  int n_pre_vmas = 0;
  uint32_t n_pre_ranges = 0;
};
State g;

bool open_userfaultfd() {
  long fd = sys::call1(kSysUserfaultfd, O_CLOEXEC | O_NONBLOCK | kUffdUserModeOnly);
  if (fd < 0) {
    g.note = "userfaultfd is not available (errno or sysctl vm.unprivileged_userfaultfd)";
    return false;
  }
  fd = move_fd_high(static_cast<int>(fd), 1002);  // not shifting the application's numbers
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = kUffdFeatureWpAsync;
  if (sys::call3(SYS_ioctl, fd, UFFDIO_API, reinterpret_cast<long>(&api)) < 0) {
    sys::close(static_cast<int>(fd));
    g.note = "this kernel has no userfaultfd async write-protection (Linux >= 6.7)";
    return false;
  }
  g.fd = static_cast<int>(fd);
  return true;
}

// Whether fd is still our userfaultfd: a program that closes every
// descriptor (a daemon) may have closed it, and the number may be another
// file now.
bool still_userfaultfd(int fd) {
  FixedString<64> link;
  link.append("/proc/self/fd/").append_int(fd);
  char target[64];
  long n = sys::readlink(link.c_str(), target, sizeof(target));
  return n > 0 && std::string_view(target, static_cast<size_t>(n)) == "anon_inode:[userfaultfd]";
}

void probe() {
  if (g.probed && g.owner_pid == sys::getpid() && (g.fd < 0 || still_userfaultfd(g.fd))) return;
  if (g.probed && g.owner_pid == sys::getpid() && g.fd >= 0) {
    g.fd = -1;  // closed by the program: its registrations went with it; all start again
    g.mode = image::Tracking::kNone;
  }
  g.probed = true;
  g.owner_pid = static_cast<int32_t>(sys::getpid());
  if (!g.arena) {
    long p = sys::mmap(nullptr, sizeof(Arena), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p < 0 && p > -4096) {
      g.note = "no memory for the tracking lists";
      return;
    }
    g.arena = reinterpret_cast<Arena*>(p);
  }
  if (open_userfaultfd()) g.mode = image::Tracking::kUffdWp;
}

// Private anonymous memory: what the image stores whole and tracking covers.
bool trackable(const MapEntry& e) {
  if (e.shared || e.inode != 0) return false;
  if (e.path.empty() || e.path == "[heap]" || e.path == "[stack]") return true;
  return e.path.starts_with("[anon:") || e.path.starts_with("[stack:");
}

// One PAGEMAP_SCAN pass over [start, end). Appends the matching ranges to
// the arena (when `keep`), returns -errno, else 0; *overflow when the arena
// is full (the scan still runs to the end, so that write-protection is
// complete).
long scan(int pagemap, uint64_t start, uint64_t end, uint64_t flags, uint64_t inverted,
          uint64_t mask, bool keep, bool* overflow) {
  PmScanArg a{};
  a.size = sizeof(a);
  a.flags = flags;
  a.end = end;
  a.vec = reinterpret_cast<uint64_t>(g.arena->vec);
  a.vec_len = kVecLen;
  a.category_inverted = inverted;
  a.category_mask = mask;
  a.return_mask = mask;
  for (uint64_t at = start; at < end;) {
    a.start = at;
    a.walk_end = 0;
    long n =
        sys::call3(SYS_ioctl, pagemap, static_cast<long>(kPagemapScan), reinterpret_cast<long>(&a));
    if (n < 0) return n;
    for (long i = 0; keep && i < n; i++) {
      if (g.n_ranges == kMaxRanges) {
        *overflow = true;
        break;
      }
      g.arena->ranges[g.n_ranges++] = {g.arena->vec[i].start, g.arena->vec[i].end};
    }
    if (a.walk_end <= at) return -EIO;
    at = a.walk_end;
  }
  return 0;
}

bool register_wp(uint64_t start, uint64_t end) {
  uffdio_register reg{};
  reg.range.start = start;
  reg.range.len = end - start;
  reg.mode = UFFDIO_REGISTER_MODE_WP;
  return sys::call3(SYS_ioctl, g.fd, UFFDIO_REGISTER, reinterpret_cast<long>(&reg)) == 0;
}

// Scans one mapping into v; false on an error that ends tracking.
bool scan_vma(int pagemap, const MapEntry& e, TrackedVma& v) {
  v = {e.start, e.end, false, g.n_ranges, 0, 0, 0};
  bool overflow = false;
  // Written pages, write-protected again in the same walk; EPERM: a mapping
  // not registered yet.
  long r = scan(pagemap, e.start, e.end, kScanWpMatching | kScanCheckWpAsync, 0, kPageIsWritten,
                true, &overflow);
  if (r == -EPERM) {
    g.n_ranges = v.written;
    if (!register_wp(e.start, e.end)) return true;  // stays untracked: written whole
    r = scan(pagemap, e.start, e.end, kScanWpMatching | kScanCheckWpAsync, 0, kPageIsWritten, false,
             &overflow);
    return r == 0;
  }
  if (r < 0) return false;
  v.n_written = g.n_ranges - v.written;
  // Empty pages: neither present nor swapped (a written-protect marker
  // counts as swapped).
  v.empty = g.n_ranges;
  r = scan(pagemap, e.start, e.end, 0, kPageIsPresent | kPageIsSwapped,
           kPageIsPresent | kPageIsSwapped, true, &overflow);
  if (r < 0) return false;
  v.n_empty = g.n_ranges - v.empty;
  v.delta = !overflow;
  v.fresh = v.written;
  v.n_fresh = v.n_written;
  return true;
}

// The pre-scan's mapping with exactly v's bounds, or nullptr.
const TrackedVma* prescanned(const TrackedVma& v) {
  int lo = 0, hi = g.n_pre_vmas;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (g.arena->pre_vmas[mid].start < v.start)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == g.n_pre_vmas) return nullptr;
  const TrackedVma& p = g.arena->pre_vmas[lo];
  return p.start == v.start && p.end == v.end ? &p : nullptr;
}

// After the scan of the pre-scan's generation: each mapping's written
// pages become the pre-scan's and its own, less the empty ones. A mapping
// the pre-scan did not see whole and tracked is written whole.
void merge_prescan() {
  for (int i = 0; i < g.n_vmas; i++) {
    TrackedVma& v = g.arena->vmas[i];
    if (!v.delta) continue;
    const TrackedVma* p = prescanned(v);
    long n = -1;
    if (p && p->delta)
      n = merge_page_ranges(g.arena->pre_ranges + p->written, p->n_written,
                            g.arena->ranges + v.fresh, v.n_fresh, g.arena->ranges + v.empty,
                            v.n_empty, g.arena->ranges + g.n_ranges, kMaxRanges - g.n_ranges);
    if (n < 0) {
      v.delta = false;
      continue;
    }
    v.written = g.n_ranges;
    v.n_written = static_cast<uint32_t>(n);
    g.n_ranges += static_cast<uint32_t>(n);
  }
}

// The pre-scan's part in a scan of `generation` that succeeded.
void take_prescan(uint64_t generation) {
  if (g.pre_generation == generation && !g.pre_lost) {
    merge_prescan();
  } else if (g.pre_generation != 0 || g.pre_lost) {
    // Pages a pre-scan write-protected again are missing from this scan.
    for (int i = 0; i < g.n_vmas; i++) g.arena->vmas[i].delta = false;
  }
  g.pre_generation = 0;
  g.pre_lost = false;
  g.n_pre_vmas = 0;
  g.n_pre_ranges = 0;
}

// Moves the scan just made into the pre-scan's lists.
void keep_as_prescan() {
  g.n_pre_ranges = 0;
  for (int i = 0; i < g.n_vmas; i++) {
    TrackedVma p = g.arena->vmas[i];
    for (uint32_t k = 0; k < p.n_written; k++)
      g.arena->pre_ranges[g.n_pre_ranges + k] = g.arena->ranges[p.written + k];
    p.written = p.fresh = g.n_pre_ranges;
    p.n_fresh = p.n_written;
    p.n_empty = 0;
    g.n_pre_ranges += p.n_written;
    g.arena->pre_vmas[i] = p;
  }
  g.n_pre_vmas = g.n_vmas;
  g.n_vmas = 0;
  g.n_ranges = 0;
}

// Runs f(entry) for each trackable mapping; false if maps is unreadable.
template <typename F>
bool for_each_trackable(F&& f) {
  ByteWriter text;
  if (!read_whole_file("/proc/self/maps", text)) return false;
  std::string_view maps(reinterpret_cast<const char*>(text.data()), text.size());
  bool ok = true;
  for_each_map(maps, [&](const MapEntry& e) {
    if (ok && trackable(e)) ok = f(e);
  });
  text.release();
  return ok;
}

}  // namespace

image::Tracking tracking_mode() {
  probe();
  return g.mode;
}

const char* tracking_note() { return g.note; }

int tracking_fd() { return g.owner_pid == sys::getpid() ? g.fd : -1; }

namespace {

// One scan of every trackable mapping into vmas/ranges.
bool scan_all() {
  g.n_vmas = 0;
  g.n_ranges = 0;
  if (tracking_mode() != image::Tracking::kUffdWp) return false;
  exclude_range(g.arena, sizeof(Arena));
  int pagemap = static_cast<int>(sys::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  if (pagemap < 0) return false;
  bool ok = for_each_trackable([&](const MapEntry& e) {
    if (g.n_vmas == kMaxVmas) return false;
    return scan_vma(pagemap, e, g.arena->vmas[g.n_vmas++]);
  });
  sys::close(pagemap);
  if (!ok) g.n_vmas = 0;
  return ok;
}

}  // namespace

bool scan_dirty_pages(uint64_t generation) {
  g.scan_generation = 0;
  if (!scan_all()) {
    g.pre_generation = 0;  // this image and the next are full anyway
    g.pre_lost = false;
    g.n_pre_vmas = 0;
    return false;
  }
  take_prescan(generation);
  g.scan_generation = generation;
  return true;
}

bool prescan_dirty_pages(uint64_t generation) {
  // A pre-scan that no scan took: the pages it found are lost to deltas.
  if (g.pre_generation != 0) g.pre_lost = true;
  g.pre_generation = 0;
  g.n_pre_vmas = 0;
  uint64_t last = g.scan_generation;  // a pre-scan is no scan of its own
  bool ok = scan_all();
  g.scan_generation = last;
  if (!ok) {
    if (tracking_mode() == image::Tracking::kUffdWp) g.pre_lost = true;  // half re-armed
    return false;
  }
  keep_as_prescan();
  g.pre_generation = generation;
  return true;
}

int prescanned_vmas(const TrackedVma** out) {
  *out = g.arena ? g.arena->pre_vmas : nullptr;
  return g.pre_generation ? g.n_pre_vmas : 0;
}

const PageRange* prescan_ranges() { return g.arena ? g.arena->pre_ranges : nullptr; }

uint64_t last_scan_generation() { return g.scan_generation; }

int scanned_vmas(const TrackedVma** out) {
  *out = g.arena ? g.arena->vmas : nullptr;
  return g.n_vmas;
}

const PageRange* scan_ranges() { return g.arena ? g.arena->ranges : nullptr; }

const TrackedVma* find_scanned(uint64_t start, uint64_t end) {
  int lo = 0, hi = g.n_vmas;
  while (lo < hi) {  // first mapping ending after start
    int mid = (lo + hi) / 2;
    if (g.arena->vmas[mid].end <= start)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == g.n_vmas) return nullptr;
  const TrackedVma& v = g.arena->vmas[lo];
  return v.start <= start && end <= v.end ? &v : nullptr;
}

void forget_dirty_tracking(bool close_fd) {
  if (close_fd && g.fd >= 0) sys::close(g.fd);
  Arena* arena = g.arena;  // a mapping of this process still (a fork child)
  g = State{};
  if (!close_fd) arena = nullptr;  // after a restart: not restored (left out of the image)
  g.arena = arena;
}

}  // namespace ckpt
