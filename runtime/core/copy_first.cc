// Copy-first checkpoints (see copy_first.h).
#include "copy_first.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <atomic>
#include <cstring>

#include "ckpt/maps.h"
#include "ckpt/sys.h"
#include "fork_fence.h"
#include "memory_capture.h"
#include "proc_files.h"
#include "raw_thread.h"
#include "runtime.h"
#include "runtime_ranges.h"

namespace ckpt {
namespace {

constexpr uint64_t kPage = 4096;
constexpr int kMadvWipeOnFork = 18, kMadvKeepOnFork = 19, kMadvPopulateRead = 22,
              kMadvPopulateWrite = 23;

struct CopiedRegion {
  uint64_t start, end;
  uint8_t* copy;
};

CopiedRegion g_regions[kMaxCopiedRegions];
int g_count = 0;
uint8_t* g_buffer = nullptr;
uint64_t g_buffer_len = 0;
long g_buffer_pid = 0;
bool g_buffer_fresh = false;  // never written: all zero

// A mapping whose pages only the application writes: private, anonymous
// (not the brk heap, where the runtime's own start-up allocations live),
// readable and writable, large, and not the runtime's (its stack, its data;
// its buffers are cut out by the caller).
bool copyable(const MapEntry& e, const uint64_t* runtime_addrs, int n_addrs) {
  if (e.shared || e.inode != 0 || !e.path.empty() || e.size() < kMinCopiedRegion) return false;
  if ((e.prot & (PROT_READ | PROT_WRITE)) != (PROT_READ | PROT_WRITE)) return false;
  for (int i = 0; i < n_addrs; i++)
    if (e.start <= runtime_addrs[i] && runtime_addrs[i] < e.end) return false;
  return true;
}

// Resident (present or swapped) bytes of [start, end).
uint64_t resident_bytes(int pagemap, uint64_t start, uint64_t end) {
  uint64_t entries[512], n_resident = 0;
  for (uint64_t a = start; a < end;) {
    uint64_t n = (end - a) / kPage;
    if (n > 512) n = 512;
    long got = sys::pread(pagemap, entries, n * 8, static_cast<long>(a / kPage * 8));
    if (got <= 0) return end - start;
    for (long i = 0; i < got / 8; i++) n_resident += entries[i] >> 62 ? 1 : 0;
    a += static_cast<uint64_t>(got / 8) * kPage;
  }
  return n_resident * kPage;
}

// Copies the resident runs of [from, to) of region r to its copy (same
// offsets); zeroes the rest unless the buffer is fresh.
void copy_resident(int pagemap, const CopiedRegion& r, uint64_t from, uint64_t to, bool fresh) {
  uint64_t entries[512];
  for (uint64_t a = from; a < to;) {
    uint64_t n = (to - a) / kPage;
    if (n > 512) n = 512;
    long got = sys::pread(pagemap, entries, n * 8, static_cast<long>(a / kPage * 8));
    uint64_t m = got > 0 ? static_cast<uint64_t>(got / 8) : n;
    for (uint64_t i = 0; i < m;) {
      bool resident = got <= 0 || (entries[i] >> 62) != 0;
      uint64_t j = i + 1;
      while (j < m && (got <= 0 || (entries[j] >> 62) != 0) == resident) j++;
      uint8_t* dst = r.copy + (a - r.start) + i * kPage;
      if (resident)
        std::memcpy(dst, reinterpret_cast<const void*>(a + i * kPage), (j - i) * kPage);
      else if (!fresh)
        std::memset(dst, 0, (j - i) * kPage);
      i = j;
    }
    a += m * kPage;
  }
}

// The copy is shared out in slices between the checkpoint thread and raw
// worker threads (one per usable CPU, at most 4): the application's threads
// are stopped, the CPUs are free, and one core does not reach the memory
// bandwidth.
constexpr uint64_t kSlice = 16ull << 20;

struct CopyWork {
  int pagemap;
  bool fresh;
  std::atomic<uint64_t> next{0};
};

// Slice k of the copied regions: its region and range. False past the end.
bool slice_at(uint64_t k, const CopiedRegion** r, uint64_t* from, uint64_t* to) {
  for (int i = 0; i < g_count; i++) {
    uint64_t n = (g_regions[i].end - g_regions[i].start + kSlice - 1) / kSlice;
    if (k < n) {
      *r = &g_regions[i];
      *from = g_regions[i].start + k * kSlice;
      *to = *from + kSlice < g_regions[i].end ? *from + kSlice : g_regions[i].end;
      return true;
    }
    k -= n;
  }
  return false;
}

void copy_worker(void* arg) {
  auto& w = *static_cast<CopyWork*>(arg);
  const CopiedRegion* r;
  uint64_t from, to;
  while (slice_at(w.next.fetch_add(1), &r, &from, &to))
    copy_resident(w.pagemap, *r, from, to, w.fresh);
}

void copy_all(int pagemap, bool fresh, uint64_t span) {
  CopyWork w;
  w.pagemap = pagemap;
  w.fresh = fresh;
  int n = usable_cpus();
  if (n > 4) n = 4;
  if (static_cast<uint64_t>(n) > span / kSlice + 1) n = static_cast<int>(span / kSlice + 1);
  RawThread workers[4];
  for (int i = 1; i < n; i++) raw_thread_start(workers[i], copy_worker, &w);
  copy_worker(&w);
  for (int i = 1; i < n; i++) raw_thread_join(workers[i]);
}

// Picks the regions (in g_regions, copy offsets relative to 0) within budget.
uint64_t pick_regions(std::string_view maps, int pagemap, uint64_t budget, uint64_t* resident) {
  uint64_t here = 0;
  uint64_t runtime_addrs[3] = {reinterpret_cast<uint64_t>(&here),  // this stack
                               reinterpret_cast<uint64_t>(&runtime()),
                               reinterpret_cast<uint64_t>(&g_count)};  // the runtime's .bss
  uint64_t offset = 0;
  *resident = 0;
  for_each_map(maps, [&](const MapEntry& whole) {
    MapEntry parts[kMaxExcluded + 1];
    int n_parts = cut_excluded(whole, parts);
    for (int i = 0; i < n_parts; i++) {
      const MapEntry& e = parts[i];
      if (g_count == kMaxCopiedRegions || !copyable(e, runtime_addrs, 3)) continue;
      uint64_t bytes = resident_bytes(pagemap, e.start, e.end);
      if (bytes == 0 || *resident + bytes > budget) continue;
      *resident += bytes;
      g_regions[g_count++] = {e.start, e.end, reinterpret_cast<uint8_t*>(offset)};
      offset += e.end - e.start;
    }
  });
  return offset;
}

// The buffer: MAP_SHARED, so that the fork does not make its pages
// copy-on-write and the next checkpoint writes them again without a fault.
// Kept between checkpoints (unless CKPT_COPY_KEEP=0): memory touched for the
// first time costs 0.5-0.8 s per GiB here, a copy into touched memory 0.12 s.
// MADV_DONTFORK except while the writer forks: the application's own
// children must not share it. Owned by the process that mapped it.
bool own_buffer() { return g_buffer && g_buffer_pid == sys::getpid(); }

void unmap_buffer() {
  if (own_buffer()) sys::munmap(g_buffer, g_buffer_len);
  g_buffer = nullptr;
  g_buffer_len = 0;
}

bool keep_buffer() {
  const char* v = getenv("CKPT_COPY_KEEP");
  return !(v && *v == '0');
}

// A buffer of at least `span` bytes; *fresh: its pages are all zero.
bool ensure_buffer(uint64_t span, bool dense, bool* fresh) {
  if (own_buffer() && g_buffer_len >= span) {
    *fresh = g_buffer_fresh;
    return true;
  }
  unmap_buffer();
  uint64_t len = (span + span / 8 + kPage - 1) & ~(kPage - 1);  // room to grow until the pause
  long p = sys::mmap(nullptr, len, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p < 0) return false;
  g_buffer = reinterpret_cast<uint8_t*>(p);
  g_buffer_len = len;
  g_buffer_pid = sys::getpid();
  sys::call3(sys::kMadvise, p, static_cast<long>(len), MADV_DONTFORK);
  // One populate call costs less than a fault per page during the copy.
  if (dense) sys::call3(sys::kMadvise, p, static_cast<long>(span), kMadvPopulateWrite);
  *fresh = g_buffer_fresh = true;
  return true;
}

// The regions a copy would take now, and the buffer's size for them.
uint64_t plan_copy(uint64_t budget, uint64_t* resident, int* pagemap) {
  g_count = 0;
  *resident = 0;
  ByteWriter text;
  if (!read_whole_file("/proc/self/maps", text)) return 0;
  *pagemap = static_cast<int>(sys::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  std::string_view maps(reinterpret_cast<const char*>(text.data()), text.size());
  uint64_t span = *pagemap >= 0 ? pick_regions(maps, *pagemap, budget, resident) : 0;
  text.release();
  return span;
}

}  // namespace

void prepare_copy_buffer(uint64_t budget) {
  uint64_t resident = 0;
  int pagemap = -1;
  uint64_t span;
  {
    ForkFence fence;  // the application runs: keep its forks off our descriptors
    span = plan_copy(budget, &resident, &pagemap);
    if (pagemap >= 0) sys::close(pagemap);
  }
  bool fresh;
  if (span) ensure_buffer(span, resident * 2 >= span, &fresh);
  g_count = 0;
}

bool copy_before_fork(uint64_t budget, uint64_t* copied_bytes) {
  *copied_bytes = 0;
  uint64_t resident = 0;
  int pagemap = -1;
  uint64_t span = plan_copy(budget, &resident, &pagemap);
  bool fresh = false;
  if (span == 0 || !ensure_buffer(span, resident * 2 >= span, &fresh)) {
    if (pagemap >= 0) sys::close(pagemap);
    g_count = 0;
    return false;
  }
  g_buffer_fresh = false;
  exclude_range(g_buffer, g_buffer_len);
  for (int i = 0; i < g_count; i++)
    g_regions[i].copy = g_buffer + reinterpret_cast<uint64_t>(g_regions[i].copy);
  copy_all(pagemap, fresh, span);
  for (int i = 0; i < g_count; i++)
    sys::call3(sys::kMadvise, static_cast<long>(g_regions[i].start),
               static_cast<long>(g_regions[i].end - g_regions[i].start), kMadvWipeOnFork);
  sys::close(pagemap);
  sys::call3(sys::kMadvise, reinterpret_cast<long>(g_buffer), static_cast<long>(g_buffer_len),
             MADV_DOFORK);
  *copied_bytes = resident;
  return true;
}

void release_copy() {
  for (int i = 0; i < g_count; i++)
    sys::call3(sys::kMadvise, static_cast<long>(g_regions[i].start),
               static_cast<long>(g_regions[i].end - g_regions[i].start), kMadvKeepOnFork);
  g_count = 0;
  if (!own_buffer()) return;
  if (keep_buffer())
    sys::call3(sys::kMadvise, reinterpret_cast<long>(g_buffer), static_cast<long>(g_buffer_len),
               MADV_DONTFORK);
  else
    unmap_buffer();
}

bool is_copy_buffer(uint64_t start, uint64_t end) {
  uint64_t b = reinterpret_cast<uint64_t>(g_buffer);
  return own_buffer() && b <= start && end <= b + g_buffer_len;
}

const uint8_t* copied_pages(uint64_t addr, uint64_t len, bool* broken) {
  for (int i = 0; i < g_count; i++) {
    const CopiedRegion& r = g_regions[i];
    if (addr + len <= r.start || r.end <= addr) continue;
    // Adjacent copied mappings (which the kernel may merge) are adjacent
    // in the buffer too: the range may run on into them.
    uint64_t end = r.end;
    for (int j = i + 1;
         j < g_count && g_regions[j].start == end && g_regions[j].copy == r.copy + (end - r.start);
         j++)
      end = g_regions[j].end;
    if (addr < r.start || end < addr + len) {
      *broken = true;
      return nullptr;
    }
    return r.copy + (addr - r.start);
  }
  return nullptr;
}

bool copy_in_use() { return g_count > 0; }

void map_copy_in_writer() {
  // A fork does not copy the page tables of a shared mapping: one call maps
  // them all instead of a fault per page.
  if (g_count > 0 && g_buffer)
    sys::call3(sys::kMadvise, reinterpret_cast<long>(g_buffer), static_cast<long>(g_buffer_len),
               kMadvPopulateRead);
}

void forget_copy() {
  g_count = 0;
  g_buffer = nullptr;  // not in the image
  g_buffer_len = 0;
}

}  // namespace ckpt
