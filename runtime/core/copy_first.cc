// Copy-first checkpoints (see copy_first.h).
#include "copy_first.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <atomic>
#include <cstring>

#include "ckpt/maps.h"
#include "ckpt/sys.h"
#include "dirty_tracking.h"
#include "fork_fence.h"
#include "log.h"
#include "memory_capture.h"
#include "proc_files.h"
#include "raw_thread.h"
#include "runtime.h"
#include "runtime_ranges.h"
#include "thread_local_state.h"

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

// The dirty copy: mappings left out of the fork, and the runs of written
// pages copied from them (address order; `offset` is in the buffer): those
// copied before the pause (the pre-copy), then those copied in it, which
// are newer where both hold a page.
struct DirtyRun {
  uint64_t start, end, offset;
};
struct RunList {
  uint32_t first, n;
};
struct DirtyRegion {
  uint64_t start, end;
  RunList pre, late;
};
DirtyRegion g_dirty[kMaxCopiedRegions];
int g_dirty_count = 0;
// The pre-copy of the coming checkpoint: its mappings (pre runs only), the
// runs and buffer bytes it used (the pause's copy goes after them).
DirtyRegion g_pre[kMaxCopiedRegions];
int g_pre_count = 0;
uint32_t g_pre_runs = 0;
uint64_t g_pre_bytes = 0;
uint64_t g_pre_generation = 0;
DirtyRun* g_runs = nullptr;  // mmap'd, kRunsCapacity entries
constexpr uint32_t kRunsCapacity = 1u << 18;
constexpr uint64_t kMaxDirtyShare = 4;  // at most a quarter of the mappings written
uint64_t g_dirty_want = 0;              // buffer bytes the last dirty copy needed
uint8_t* g_buffer = nullptr;
uint64_t g_buffer_len = 0;
long g_buffer_pid = 0;
bool g_buffer_fresh = false;  // never written: all zero
uint64_t g_buffer_ready = 0;  // bytes of it known populated

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

// Runs work(arg) on the calling thread and on raw workers, one per usable
// CPU (at most 4, at most one per kSlice of `bytes`).
void fan_out(void (*work)(void*), void* arg, uint64_t bytes) {
  int n = usable_cpus();
  if (n > 4) n = 4;
  if (static_cast<uint64_t>(n) > bytes / kSlice + 1) n = static_cast<int>(bytes / kSlice + 1);
  RawThread workers[4];
  for (int i = 1; i < n; i++) raw_thread_start(workers[i], work, arg);
  work(arg);
  for (int i = 1; i < n; i++) raw_thread_join(workers[i]);
}

void copy_all(int pagemap, bool fresh, uint64_t span) {
  CopyWork w;
  w.pagemap = pagemap;
  w.fresh = fresh;
  fan_out(copy_worker, &w, span);
}

// Addresses in mappings that are the runtime's, never copied: the calling
// thread's stack (the checkpoint thread's), the runtime's state and .bss.
void runtime_addresses(uint64_t out[3]) {
  uint64_t here = 0;
  out[0] = reinterpret_cast<uint64_t>(&here);
  out[1] = reinterpret_cast<uint64_t>(&runtime());
  out[2] = reinterpret_cast<uint64_t>(&g_count);
}

// Picks the regions (in g_regions, copy offsets relative to 0) within budget.
uint64_t pick_regions(std::string_view maps, int pagemap, uint64_t budget, uint64_t* resident) {
  uint64_t runtime_addrs[3];
  runtime_addresses(runtime_addrs);
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
  g_buffer_ready = 0;
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
  g_buffer_ready = 0;
  if (dense && sys::call3(sys::kMadvise, p, static_cast<long>(span), kMadvPopulateWrite) == 0)
    g_buffer_ready = span;
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

uint64_t copy_buffer_ready_bytes() { return own_buffer() ? g_buffer_ready : 0; }

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
  if (g_buffer_ready < resident) g_buffer_ready = resident;  // as many pages written
  return true;
}

DirtyCopySetting dirty_copy_setting() {
  const char* v = getenv("CKPT_DIRTY_COPY");
  if (v && *v == '0') return DirtyCopySetting::kOff;
  return v && *v == '1' ? DirtyCopySetting::kAlways : DirtyCopySetting::kAuto;
}

void prepare_dirty_copy(uint64_t budget) {
  bool fresh;
  if (g_dirty_want && g_dirty_want <= budget) ensure_buffer(g_dirty_want, true, &fresh);
}

namespace {

// The tracked mapping part `e` if the dirty copy may take it: copyable,
// tracked since the previous scan (its written pages are exact).
const TrackedVma* dirty_candidate(const MapEntry& e, const uint64_t* runtime_addrs) {
  if (!copyable(e, runtime_addrs, 3)) return nullptr;
  const TrackedVma* v = find_scanned(e.start, e.end);
  return v && v->delta ? v : nullptr;
}

// The pre-copied mapping with exactly [start, end), or nullptr.
const DirtyRegion* precopied(uint64_t start, uint64_t end) {
  for (int i = 0; i < g_pre_count; i++)
    if (g_pre[i].start == start && g_pre[i].end == end) return &g_pre[i];
  return nullptr;
}

// Appends the ranges of `list` (n of them from `first`) clipped to
// [start, end) as runs from *n_runs on, their bytes packed from *bytes on.
bool add_runs(const PageRange* list, uint32_t first, uint32_t n, uint64_t start, uint64_t end,
              uint32_t* n_runs, uint64_t* bytes) {
  for (uint32_t k = 0; k < n; k++) {
    const PageRange& r = list[first + k];
    uint64_t s = r.start > start ? r.start : start, t = r.end < end ? r.end : end;
    if (s >= t) continue;
    if (*n_runs == kRunsCapacity) return false;
    g_runs[(*n_runs)++] = {s, t, *bytes};
    *bytes += t - s;
  }
  return true;
}

// Picks the dirty regions and their runs to copy now, after the pre-copy's
// (offsets after its bytes). A region the pre-copy took whole needs only the
// pages this scan itself found written; any other, all of them. False when
// they do not fit the run table; *bytes: what the copy takes now, *total:
// with the pre-copied pages of the regions picked, *span: their size.
bool pick_dirty(std::string_view maps, uint64_t* bytes, uint64_t* total, uint64_t* span) {
  uint64_t runtime_addrs[3];
  runtime_addresses(runtime_addrs);
  uint32_t n_runs = g_pre_runs;
  bool fits = true;
  uint64_t end_bytes = g_pre_bytes;
  *total = *span = 0;
  g_dirty_count = 0;
  for_each_map(maps, [&](const MapEntry& whole) {
    MapEntry parts[kMaxExcluded + 1];
    int n_parts = cut_excluded(whole, parts);
    for (int i = 0; i < n_parts && fits; i++) {
      const MapEntry& e = parts[i];
      const TrackedVma* v =
          g_dirty_count < kMaxCopiedRegions ? dirty_candidate(e, runtime_addrs) : nullptr;
      if (!v) continue;
      const DirtyRegion* pre = precopied(e.start, e.end);
      DirtyRegion& d = g_dirty[g_dirty_count++];
      d = {e.start, e.end, pre ? pre->pre : RunList{0, 0}, {n_runs, 0}};
      *span += e.end - e.start;
      uint64_t before = end_bytes;
      fits =
          pre ? add_runs(scan_ranges(), v->fresh, v->n_fresh, e.start, e.end, &n_runs, &end_bytes)
              : add_runs(scan_ranges(), v->written, v->n_written, e.start, e.end, &n_runs,
                         &end_bytes);
      d.late.n = n_runs - d.late.first;
      *total += end_bytes - before;
      for (uint32_t k = 0; pre && k < pre->pre.n; k++)
        *total += g_runs[pre->pre.first + k].end - g_runs[pre->pre.first + k].start;
    }
  });
  *bytes = end_bytes - g_pre_bytes;
  return fits;
}

// The runs are shared out between the checkpoint thread and raw workers,
// as the full copy's slices are.
struct RunWork {
  std::atomic<uint32_t> next{0};
  uint32_t n_runs;  // runs [next's start, n_runs) are copied
};
constexpr uint32_t kRunsPerTake = 256;

void run_worker(void* arg) {
  auto& w = *static_cast<RunWork*>(arg);
  for (;;) {
    uint32_t first = w.next.fetch_add(kRunsPerTake);
    if (first >= w.n_runs) return;
    uint32_t last = first + kRunsPerTake < w.n_runs ? first + kRunsPerTake : w.n_runs;
    for (uint32_t k = first; k < last; k++)
      std::memcpy(g_buffer + g_runs[k].offset, reinterpret_cast<const void*>(g_runs[k].start),
                  g_runs[k].end - g_runs[k].start);
  }
}

void copy_runs(uint32_t first, uint32_t end, uint64_t bytes) {
  RunWork w;
  w.next = first;
  w.n_runs = end;
  fan_out(run_worker, &w, bytes);
}

// The run table, mapped once: the runtime's, never copied, never left out
// of the fork, never in the image (cut out again at every use: each
// checkpoint's prepare_image starts the list afresh).
bool ensure_runs() {
  if (!g_runs) {
    long p = sys::mmap(nullptr, kRunsCapacity * sizeof(DirtyRun), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p < 0) return false;
    g_runs = reinterpret_cast<DirtyRun*>(p);
  }
  exclude_range(g_runs, kRunsCapacity * sizeof(DirtyRun));
  return true;
}

// The pre-copy reads the application's memory while it runs, and a mapping
// may go meanwhile: process_vm_readv on itself fails where memcpy would
// fault. Runs [0, n_runs) in batches, on every CPU like copy_runs.
struct ReadWork {
  std::atomic<uint32_t> next{0};
  uint32_t n_runs;
  std::atomic<bool> failed{false};
};

void read_worker(void* arg) {
  auto& w = *static_cast<ReadWork*>(arg);
  iovec local[kRunsPerTake], remote[kRunsPerTake];
  long pid = sys::getpid();
  for (;;) {
    uint32_t first = w.next.fetch_add(kRunsPerTake);
    if (first >= w.n_runs || w.failed.load()) return;
    uint32_t last = first + kRunsPerTake < w.n_runs ? first + kRunsPerTake : w.n_runs;
    uint64_t want = 0;
    for (uint32_t k = first; k < last; k++) {
      const DirtyRun& r = g_runs[k];
      local[k - first] = {g_buffer + r.offset, r.end - r.start};
      remote[k - first] = {reinterpret_cast<void*>(r.start), r.end - r.start};
      want += r.end - r.start;
    }
    long got = sys::call6(SYS_process_vm_readv, pid, reinterpret_cast<long>(local), last - first,
                          reinterpret_cast<long>(remote), last - first, 0);
    if (got != static_cast<long>(want)) w.failed.store(true);
  }
}

bool read_runs(uint32_t n_runs, uint64_t bytes) {
  ReadWork w;
  w.n_runs = n_runs;
  fan_out(read_worker, &w, bytes);
  return !w.failed.load();
}

bool precopy_setting() {
  const char* v = getenv("CKPT_PRECOPY");
  return !(v && *v == '0');
}

// Picks the pre-scan's tracked regions and their runs (offsets from 0).
void pick_precopy(std::string_view maps) {
  uint64_t runtime_addrs[3];
  runtime_addresses(runtime_addrs);
  const TrackedVma* vmas;
  int n_vmas = prescanned_vmas(&vmas);
  bool fits = true;
  for_each_map(maps, [&](const MapEntry& whole) {
    MapEntry parts[kMaxExcluded + 1];
    int n_parts = cut_excluded(whole, parts);
    for (int i = 0; i < n_parts && fits && g_pre_count < kMaxCopiedRegions; i++) {
      const MapEntry& e = parts[i];
      if (!copyable(e, runtime_addrs, 3)) continue;
      const TrackedVma* v = nullptr;
      for (int k = 0; k < n_vmas && !v; k++)
        if (vmas[k].delta && vmas[k].start <= e.start && e.end <= vmas[k].end) v = &vmas[k];
      if (!v) continue;
      DirtyRegion& d = g_pre[g_pre_count++];
      d = {e.start, e.end, {g_pre_runs, 0}, {0, 0}};
      fits = add_runs(prescan_ranges(), v->written, v->n_written, e.start, e.end, &g_pre_runs,
                      &g_pre_bytes);
      d.pre.n = g_pre_runs - d.pre.first;
    }
  });
  if (!fits) g_pre_count = 0;
}

}  // namespace

void precopy_dirty_pages(uint64_t generation) {
  g_pre_count = 0;
  g_pre_runs = 0;
  g_pre_bytes = 0;
  g_pre_generation = 0;
  if (!precopy_setting() || !g_dirty_want || !own_buffer() || !ensure_runs()) return;
  int64_t t0 = monotonic_ns();
  ByteWriter text;
  {
    ForkFence fence;  // the application runs: keep its forks off our descriptors
    if (!prescan_dirty_pages(generation) || !read_whole_file("/proc/self/maps", text)) return;
  }
  std::string_view maps(reinterpret_cast<const char*>(text.data()), text.size());
  pick_precopy(maps);
  text.release();
  if (g_pre_count == 0 || g_pre_bytes > g_buffer_len) {
    g_pre_count = 0;
    return;
  }
  int64_t t1 = monotonic_ns();
  if (!read_runs(g_pre_runs, g_pre_bytes)) {
    g_pre_count = 0;
    log_line(LogLevel::kInfo, "pre-copy dropped: a mapping changed while it was read");
    return;
  }
  g_pre_generation = generation;
  if (log_enabled(LogLevel::kInfo)) {
    MessageString msg;
    msg.append("pre-copy: ").append_int(static_cast<long>(g_pre_bytes >> 20));
    msg.append(" MiB written since the last checkpoint copied before the pause (scan ");
    msg.append_int((t1 - t0) / 1000).append(" us, copy ").append_int((monotonic_ns() - t1) / 1000);
    msg.append(" us)");
    log_line(LogLevel::kInfo, msg.view());
  }
}

bool copy_dirty_before_fork(uint64_t budget, uint64_t generation, uint64_t* copied_bytes,
                            uint64_t* precopied_bytes) {
  *copied_bytes = *precopied_bytes = 0;
  g_dirty_count = 0;
  if (g_pre_generation != generation) {  // no pre-copy for this checkpoint
    g_pre_count = 0;
    g_pre_runs = 0;
    g_pre_bytes = 0;
  }
  g_pre_generation = 0;
  if (!ensure_runs()) return false;
  ByteWriter text;
  if (!read_whole_file("/proc/self/maps", text)) return false;
  std::string_view maps(reinterpret_cast<const char*>(text.data()), text.size());
  uint64_t bytes = 0, total = 0, span = 0;
  bool fits = pick_dirty(maps, &bytes, &total, &span);
  // The pre-copy and what was written after it (the same pages again, in
  // part) do not fit the buffer together: copy every written page now, as
  // without a pre-copy, and make the next buffer large enough for both.
  uint64_t wanted = g_pre_bytes + bytes;
  if (fits && g_pre_count > 0 && wanted > g_buffer_len) {
    g_pre_count = 0;
    g_pre_runs = 0;
    g_pre_bytes = 0;
    fits = pick_dirty(maps, &bytes, &total, &span);
  }
  text.release();
  // A program that rewrote most of its memory: the fork costs less in the
  // pause than copying it, and the buffer would double its memory.
  if (total > span / kMaxDirtyShare && dirty_copy_setting() != DirtyCopySetting::kAlways)
    fits = false;
  // Only when the buffer made ready before the pause holds it all: a
  // first touch of new memory here would cost more than the fork saves.
  uint64_t used = g_pre_bytes + bytes;
  if (wanted < used) wanted = used;
  bool fresh = false;
  if (!fits || g_dirty_count == 0 || total == 0 || used > budget || !own_buffer() ||
      g_buffer_len < used) {
    g_dirty_want = fits && total && used <= budget ? wanted + wanted / 4 : 0;
    g_dirty_count = 0;
    g_pre_count = 0;
    return false;
  }
  ensure_buffer(used, false, &fresh);
  g_buffer_fresh = false;
  exclude_range(g_buffer, g_buffer_len);
  const DirtyRegion& last = g_dirty[g_dirty_count - 1];
  copy_runs(g_pre_runs, last.late.first + last.late.n, bytes);
  for (int i = 0; i < g_dirty_count; i++)
    sys::call3(sys::kMadvise, static_cast<long>(g_dirty[i].start),
               static_cast<long>(g_dirty[i].end - g_dirty[i].start), kMadvWipeOnFork);
  sys::call3(sys::kMadvise, reinterpret_cast<long>(g_buffer), static_cast<long>(g_buffer_len),
             MADV_DOFORK);
  // The next buffer: as large as this checkpoint's pages written before and
  // in the pause (a pre-copy and a pause's copy both need room).
  g_dirty_want = wanted + wanted / 4 > g_buffer_len ? wanted + wanted / 4 : g_buffer_len;
  *copied_bytes = bytes;
  *precopied_bytes = total - bytes;
  g_pre_count = 0;
  return true;
}

namespace {

// Copies the runs of `list` overlapping [addr, end) into scratch.
void gather_runs(const RunList& list, uint64_t addr, uint64_t end, uint8_t* scratch) {
  // The first run ending after addr, then every run that starts before end.
  uint32_t lo = list.first, hi = list.first + list.n;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    if (g_runs[mid].end <= addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (uint32_t k = lo; k < list.first + list.n && g_runs[k].start < end; k++) {
    const DirtyRun& r = g_runs[k];
    uint64_t s = r.start > addr ? r.start : addr, t = r.end < end ? r.end : end;
    std::memcpy(scratch + (s - addr), g_buffer + r.offset + (s - r.start), t - s);
  }
}

}  // namespace

const uint8_t* gather_dirty_pages(uint64_t addr, uint32_t pages, uint8_t* scratch, bool* broken) {
  uint64_t end = addr + static_cast<uint64_t>(pages) * kPage;
  for (int i = 0; i < g_dirty_count; i++) {
    const DirtyRegion& d = g_dirty[i];
    if (end <= d.start || d.end <= addr) continue;
    if (addr < d.start || d.end < end) {
      *broken = true;
      return nullptr;
    }
    gather_runs(d.pre, addr, end, scratch);
    gather_runs(d.late, addr, end, scratch);  // newer: written after the pre-copy
    return scratch;
  }
  return nullptr;
}

void release_copy() {
  for (int i = 0; i < g_count; i++)
    sys::call3(sys::kMadvise, static_cast<long>(g_regions[i].start),
               static_cast<long>(g_regions[i].end - g_regions[i].start), kMadvKeepOnFork);
  g_count = 0;
  for (int i = 0; i < g_dirty_count; i++)
    sys::call3(sys::kMadvise, static_cast<long>(g_dirty[i].start),
               static_cast<long>(g_dirty[i].end - g_dirty[i].start), kMadvKeepOnFork);
  g_dirty_count = 0;
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

bool copy_in_use() { return g_count > 0 || g_dirty_count > 0; }

bool full_copy_in_use() { return g_count > 0; }

bool dirty_copy_in_use() { return g_dirty_count > 0; }

void map_copy_in_writer() {
  // A fork does not copy the page tables of a shared mapping: one call maps
  // them all instead of a fault per page. Not for the dirty copy: its writer
  // reads the buffer once, in order, and the read faults (16 pages each)
  // cost less than the populate's page-by-page walk (13-26 ms per 100 MiB).
  if (full_copy_in_use() && g_buffer)
    sys::call3(sys::kMadvise, reinterpret_cast<long>(g_buffer), static_cast<long>(g_buffer_len),
               kMadvPopulateRead);
}

void exclude_copy_buffers() {
  if (g_runs) exclude_range(g_runs, kRunsCapacity * sizeof(DirtyRun));
  if (own_buffer()) exclude_range(g_buffer, g_buffer_len);
}

void forget_copy() {
  g_count = 0;
  g_dirty_count = 0;
  g_pre_count = 0;
  g_pre_generation = 0;
  g_dirty_want = 0;
  g_runs = nullptr;    // not in the image either
  g_buffer = nullptr;  // not in the image
  g_buffer_len = 0;
  g_buffer_ready = 0;
}

}  // namespace ckpt
