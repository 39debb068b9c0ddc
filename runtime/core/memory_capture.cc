// Memory capture (see memory_capture.h).
#include "memory_capture.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "ckpt/image_lineage.h"
#include "ckpt/maps.h"
#include "ckpt/sys.h"
#include "common/chunk_codec.h"
#include "common/image_writer.h"
#include "copy_first.h"
#include "direct_image_sink.h"
#include "futex.h"
#include "incremental_image.h"
#include "plugins/shm/shm_capture.h"
#include "proc_files.h"
#include "raw_thread.h"
#include "runtime.h"
#include "runtime_ranges.h"

namespace ckpt {
namespace {

using image::RegionKind;
using image::RegionRecord;

image::RegionRecord g_regions[kMaxRegions];
uint8_t g_made_readable[kMaxRegions];

constexpr uint64_t kPage = image::kPageSize;

bool special(std::string_view path, RegionKind& kind) {
  if (path == "[vdso]")
    kind = RegionKind::kVdso;
  else if (path == "[vvar]")
    kind = RegionKind::kVvar;
  else if (path == "[vvar_vclock]")
    kind = RegionKind::kVvarVclock;
  else if (path == "[vsyscall]")
    kind = RegionKind::kVsyscall;
  else
    return false;
  return true;
}

// Private file mappings whose file is still the one mapped are stored by
// reference: only the pages the process modified go into the image
// (CKPT_EMBED_FILES=1 stores them whole, for a machine without the files).
int g_embed_files = -1;

bool embed_files() {
  if (g_embed_files < 0) {
    const char* v = getenv("CKPT_EMBED_FILES");
    g_embed_files = v && *v == '1';
  }
  return g_embed_files;
}

// Images with at least this much memory to store are written with direct
// I/O (direct_image_sink.h): below it the slots' 8 MiB would be a large
// share of what the process holds, and the page cache is quick enough.
constexpr uint64_t kDirectIoMinBytes = 32ull << 20;
int g_direct_io = -1;

bool direct_io_allowed() {
  if (g_direct_io < 0) {
    const char* v = getenv("CKPT_DIRECT_IO");
    g_direct_io = !(v && *v == '0');
  }
  return g_direct_io;
}

void by_reference(const MapEntry& e, RegionRecord& r) {
  if (embed_files()) return;
  PathString path(e.path);
  struct stat st;
  if (sys::call4(SYS_newfstatat, AT_FDCWD, reinterpret_cast<long>(path.c_str()),
                 reinterpret_cast<long>(&st), 0) < 0)
    return;
  if (st.st_ino != e.inode || !S_ISREG(st.st_mode)) return;
  r.has_content = image::kContentModified;
  r.file_size = static_cast<uint64_t>(st.st_size);
  r.file_mtime_ns = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000ull + st.st_mtim.tv_nsec;
}

// Classify one maps entry. False with err for what cannot be saved yet.
bool classify(const MapEntry& e, RegionRecord& r, MessageString& err) {
  r.start = e.start;
  r.end = e.end;
  r.prot = e.prot;
  r.offset = e.offset;
  r.dev = (static_cast<uint64_t>(e.dev_major) << 32) | e.dev_minor;
  r.ino = e.inode;
  r.path = e.path;
  r.has_content = 1;
  if (special(e.path, r.kind)) {
    r.has_content = 0;
    return true;
  }
  bool file = e.inode != 0 && !e.path.empty() && e.path[0] == '/';
  if (e.path == "[heap]") {
    r.kind = RegionKind::kHeap;
  } else if (e.path == "[stack]") {
    r.kind = RegionKind::kStack;
  } else if (is_shm_mapping(e)) {
    r.kind = RegionKind::kAnonShared;
    return shm_capture_region(e, r, err);
  } else if (e.shared && file) {
    if (e.path.starts_with("/dev/")) {
      err.append("shared mapping of ").append(e.path).append(" at ").append_hex(e.start);
      err.append(" is a resource ckpt cannot checkpoint yet");
      return false;
    }
    r.kind = RegionKind::kFileShared;
  } else if (file && e.path.starts_with("/dev/") && !e.path.starts_with("/dev/zero")) {
    err.append("device mapping of ").append(e.path).append(" is not supported");
    return false;
  } else if (file && !e.path.starts_with("/dev/zero")) {
    r.kind = RegionKind::kFilePrivate;
    if (!e.deleted) by_reference(e, r);
  } else {
    r.kind = RegionKind::kAnon;
  }
  return true;
}

// Anonymous private memory: untouched pages (not present, not swapped) are zero.
bool pagemap_says(RegionKind k) {
  return k == RegionKind::kAnon || k == RegionKind::kHeap || k == RegionKind::kStack;
}

// A page of a private file mapping that the process wrote to is an
// anonymous copy: present and not a file page (bit 61), or swapped (bit 62).
bool is_modified_file_page(uint64_t entry) {
  bool present = entry >> 63, swapped = (entry >> 62) & 1, file_page = (entry >> 61) & 1;
  return (present && !file_page) || swapped;
}

// Does the range have any page present or swapped?
bool any_present(int pagemap, uint64_t start, uint64_t end) {
  uint64_t entries[512];
  for (uint64_t a = start; a < end;) {
    uint64_t n = (end - a) / kPage;
    if (n > 512) n = 512;
    long got = sys::pread(pagemap, entries, n * 8, static_cast<long>(a / kPage * 8));
    if (got <= 0) return true;  // unknown: assume yes
    for (long i = 0; i < got / 8; i++)
      if (entries[i] >> 62) return true;
    a += static_cast<uint64_t>(got / 8) * kPage;
  }
  return false;
}

struct ChunkTask {
  uint32_t region;
  uint32_t pages;
  uint64_t first_page;
};

struct WorkShared {
  const MemoryPlan* plan;
  ChunkTask* tasks;
  size_t n_tasks;
  std::atomic<size_t> next{0};
  image::ImageWriter* writer;
  SpinFutexLock write_lock;
  std::atomic<int> error{0};  // -errno
  int pagemap;
  int level;
  int idle_worker = -1;  // the worker that runs SCHED_IDLE, if any
  // Addresses in memory that changes while it is written: the writer's own
  // stack and the runtime's data. Chunks there are copied before encoding.
  uint64_t volatile_addrs[4];
};

bool is_volatile(const WorkShared& w, const RegionRecord& r) {
  for (uint64_t a : w.volatile_addrs)
    if (r.start <= a && a < r.end) return true;
  return false;
}

constexpr uint64_t kScratchBytes = image::kChunkPages * kPage;

uint8_t* map_scratch() {
  long p =
      sys::mmap(nullptr, kScratchBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p < 0 ? nullptr : reinterpret_cast<uint8_t*>(p);
}

// SCHED_IDLE (a worker that takes only a CPU nothing else wants) or back to
// the ordinary policy: a worker holding the write lock must not wait behind
// the application for a CPU while the others wait for it.
void set_idle(bool idle) {
  struct sched_param param = {};
  sys::call3(SYS_sched_setscheduler, 0, idle ? SCHED_IDLE : SCHED_OTHER,
             reinterpret_cast<long>(&param));
}

void encode_chunks(WorkShared& w, bool idle) {
  image::ChunkEncoder enc;
  if (!enc.init(w.level)) {
    w.error.store(-ENOMEM);
    return;
  }
  ByteWriter out;
  uint64_t pm[image::kChunkPages];
  uint64_t present[image::kChunkPages / 64];
  uint8_t* scratch = nullptr;  // one chunk gathered from a dirty copy
  for (;;) {
    size_t i = w.next.fetch_add(1);
    if (i >= w.n_tasks || w.error.load()) break;
    const ChunkTask& t = w.tasks[i];
    const RegionRecord& r = w.plan->regions[t.region];
    uint64_t base = r.start + t.first_page * kPage;
    const uint64_t* present_ptr = nullptr;
    bool modified_only = r.has_content == image::kContentModified;
    // Copy-first: the pages were copied during the pause (zero where absent).
    bool broken = false;
    const uint8_t* copy = copied_pages(base, t.pages * kPage, &broken);
    if (!copy && !broken && dirty_copy_in_use()) {
      if (!scratch) scratch = map_scratch();
      if (!scratch) {
        w.error.store(-ENOMEM);
        break;
      }
      copy = gather_dirty_pages(base, t.pages, scratch, &broken);
      // Only the written pages were copied: a full region there is a bug.
      if (copy && r.has_content != image::kContentDelta) broken = true;
    }
    if (broken) {
      w.error.store(-EFAULT);  // a copied mapping changed shape: refuse rather than guess
      break;
    }
    const uint8_t* src = copy ? copy : reinterpret_cast<const uint8_t*>(base);
    if (r.has_content == image::kContentDelta) {  // the pages written since the parent image
      if (!delta_chunk_pages(t.region, t.first_page, t.pages, present)) continue;
      present_ptr = present;
    } else if (!copy && (pagemap_says(r.kind) || modified_only)) {
      for (auto& word : present) word = 0;
      long got = sys::pread(w.pagemap, pm, t.pages * 8, static_cast<long>(base / kPage * 8));
      if (got == static_cast<long>(t.pages * 8)) {
        for (uint32_t p = 0; p < t.pages; p++)
          if (modified_only ? is_modified_file_page(pm[p]) : (pm[p] >> 62) != 0)
            present[p / 64] |= 1ull << (p % 64);
        present_ptr = present;
      } else if (modified_only) {
        w.error.store(-EIO);  // cannot tell modified pages: refuse rather than guess
        break;
      }
    }
    out.clear();
    if (!enc.encode(t.region, t.first_page, src, t.pages, present_ptr, out, modified_only,
                    !copy && is_volatile(w, r))) {
      w.error.store(-ENOMEM);
      break;
    }
    if (idle) set_idle(false);
    w.write_lock.lock();
    bool ok = w.writer->add_section(image::Tag::kMemChunk, out);
    w.write_lock.unlock();
    if (idle) set_idle(true);
    if (!ok) {
      w.error.store(w.writer->error() ? w.writer->error() : -EIO);
      break;
    }
  }
  if (scratch) sys::munmap(scratch, kScratchBytes);
  enc.destroy();
}

void chunk_worker(void* arg) { encode_chunks(*static_cast<WorkShared*>(arg), false); }

// A worker that encodes only on a CPU the application leaves idle.
void idle_chunk_worker(void* arg) {
  set_idle(true);
  encode_chunks(*static_cast<WorkShared*>(arg), true);
}

size_t count_tasks(const MemoryPlan& plan) {
  size_t n = 0;
  for (int i = 0; i < plan.count; i++) {
    const RegionRecord& r = plan.regions[i];
    if (r.has_content)
      n += ((r.end - r.start) / kPage + image::kChunkPages - 1) / image::kChunkPages;
  }
  return n;
}

void fill_tasks(const MemoryPlan& plan, ChunkTask* tasks) {
  size_t n = 0;
  for (int i = 0; i < plan.count; i++) {
    const RegionRecord& r = plan.regions[i];
    if (!r.has_content) continue;
    uint64_t pages = (r.end - r.start) / kPage;
    for (uint64_t p = 0; p < pages; p += image::kChunkPages) {
      uint64_t left = pages - p;
      tasks[n++] = {static_cast<uint32_t>(i),
                    static_cast<uint32_t>(left < image::kChunkPages ? left : image::kChunkPages),
                    p};
    }
  }
}

}  // namespace

int cut_excluded(const MapEntry& e, MapEntry* parts) {
  const Range* ranges;
  int n_ranges = excluded_ranges(&ranges);
  int n = 1;
  parts[0] = e;
  for (int x = 0; x < n_ranges; x++) {
    MapEntry next[kMaxExcluded + 1];
    int m = 0;
    for (int i = 0; i < n; i++) {
      const MapEntry& p = parts[i];
      if (p.end <= ranges[x].start || ranges[x].end <= p.start) {
        next[m++] = p;
        continue;
      }
      if (p.start < ranges[x].start) {
        next[m] = p;
        next[m++].end = ranges[x].start;
      }
      if (ranges[x].end < p.end && m <= kMaxExcluded) {
        next[m] = p;
        next[m].offset += ranges[x].end - p.start;
        next[m++].start = ranges[x].end;
      }
    }
    n = m;
    for (int i = 0; i < n; i++) parts[i] = next[i];
  }
  return n;
}

bool plan_memory(MemoryPlan& plan, MessageString& err) {
  plan.regions = g_regions;
  plan.made_readable = g_made_readable;
  plan.count = 0;
  plan.maps_text.clear();
  shm_capture_begin();
  if (!read_whole_file("/proc/self/maps", plan.maps_text)) {
    err.append("cannot read /proc/self/maps");
    return false;
  }
  // The snapshot's own buffer is the runtime's, not the application's.
  exclude_range(plan.maps_text.data(), plan.maps_text.capacity());
  int pagemap = static_cast<int>(sys::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  bool ok = true;
  std::string_view text(reinterpret_cast<const char*>(plan.maps_text.data()),
                        plan.maps_text.size());
  for_each_map(text, [&](const MapEntry& e) {
    if (!ok) return;
    // Cut the runtime's own buffers out (the kernel may have merged them
    // with a neighbour).
    MapEntry parts[kMaxExcluded + 1];
    int n_parts = cut_excluded(e, parts);
    for (int i = 0; i < n_parts && ok; i++) {
      if (plan.count == kMaxRegions) {
        err.append("more than ").append_int(kMaxRegions).append(" memory regions");
        ok = false;
        return;
      }
      RegionRecord& r = plan.regions[plan.count];
      r = RegionRecord{};
      if (!classify(parts[i], r, err)) {
        ok = false;
        return;
      }
      mark_delta_region(r);
      plan.made_readable[plan.count] = 0;
      if (r.has_content && !(r.prot & PROT_READ)) {
        // A shared object's pages may be present only in other processes.
        if (r.kind != RegionKind::kAnonShared && pagemap >= 0 &&
            !any_present(pagemap, r.start, r.end)) {
          r.has_content = 0;
        } else {
          sys::mprotect(reinterpret_cast<void*>(r.start), r.end - r.start, r.prot | PROT_READ);
          plan.made_readable[plan.count] = 1;
        }
      }
      plan.count++;
    }
  });
  if (pagemap >= 0) sys::close(pagemap);
  return ok;
}

namespace {

uint32_t g_huge[kMaxRegions];
int g_n_huge = 0;

// Whether /proc/<who>/smaps_rollup shows any AnonHugePages (true if it
// cannot tell; false at once when the machine has none). The full smaps
// costs a line per field per region, formatted by the kernel: a process
// without huge pages (most of them) skips it.
bool any_huge_pages(const PathString& who) {
  // No anonymous huge page on the whole machine (the kernel's counter):
  // nothing to walk the page tables for (15-20 ms per GiB).
  uint64_t system_wide = 0;
  if (read_kb_fields("/proc/meminfo", "AnonHugePages:", &system_wide) && system_wide == 0)
    return false;
  PathString path;
  path.append(who.view()).append("/smaps_rollup");
  ByteWriter text;
  if (!read_whole_file(path.c_str(), text)) return true;
  std::string_view s(reinterpret_cast<const char*>(text.data()), text.size());
  size_t at = s.find("AnonHugePages:");
  bool any = true;
  if (at != std::string_view::npos) {
    std::string_view line = s.substr(at, s.find('\n', at) - at);
    any = line.find_first_of("123456789") != std::string_view::npos;
  }
  text.release();
  return any;
}

// Marks the regions that /proc/self/smaps shows with AnonHugePages.
void mark_huge_regions(MemoryPlan& plan) {
  g_n_huge = 0;
  ByteWriter text;
  // A copy-first writer has the copied mappings empty: the application's
  // (its parent's, whose pages the fork did not share) tell.
  PathString who;
  if (copy_in_use())
    who.append("/proc/").append_int(sys::getppid());
  else
    who.append("/proc/self");
  if (!any_huge_pages(who)) return;
  PathString smaps;
  smaps.append(who.view()).append("/smaps");
  if (!read_whole_file(smaps.c_str(), text)) return;
  std::string_view s(reinterpret_cast<const char*>(text.data()), text.size());
  uint64_t start = 0;
  int next = 0;  // regions are in address order, like smaps
  while (!s.empty()) {
    size_t nl = s.find('\n');
    std::string_view line = s.substr(0, nl);
    s = nl == std::string_view::npos ? std::string_view() : s.substr(nl + 1);
    MapEntry e;
    if (!line.empty() && line[0] != ' ' && line.find('-') < 17 && parse_maps_line(line, e)) {
      start = e.start;
    } else if (line.starts_with("AnonHugePages:")) {
      size_t at = line.find_first_of("123456789");
      if (at == std::string_view::npos) continue;  // 0 kB
      while (next < plan.count && plan.regions[next].end <= start) next++;
      for (int i = next; i < plan.count && plan.regions[i].start < start + 1; i++) {
        if (plan.regions[i].start <= start && start < plan.regions[i].end) {
          plan.regions[i].huge = 1;
          g_huge[g_n_huge++] = static_cast<uint32_t>(i);
        }
      }
    }
  }
  text.release();
}

}  // namespace

void read_memory_settings() {
  embed_files();
  direct_io_allowed();
}

namespace {

// Memory of the regions stored whole, and the pages written since the
// parent image in the delta regions.
uint64_t content_bytes(const MemoryPlan& plan) {
  uint64_t n = delta_bytes_planned();
  for (int i = 0; i < plan.count; i++) {
    const RegionRecord& r = plan.regions[i];
    if (r.has_content && r.has_content != image::kContentDelta) n += r.end - r.start;
  }
  return n;
}

void maybe_write_direct(const MemoryPlan& plan, image::ImageWriter& writer, DirectImageSink& sink) {
  if (!direct_io_allowed() || content_bytes(plan) < kDirectIoMinBytes) return;
  if (sink.start(writer.fd(), writer.bytes_written(), writer.partial_block()))
    writer.redirect(&sink);
}

}  // namespace

int huge_regions(const image::RegionRecord** regions, const uint32_t** indices) {
  *regions = g_regions;
  *indices = g_huge;
  return g_n_huge;
}

bool write_memory(MemoryPlan& plan, image::ImageWriter& writer, int level, DirectImageSink& sink,
                  MessageString& err) {
  mark_huge_regions(plan);
  ByteWriter scratch;
  if (!writer.add_records(image::Tag::kMemRegions, plan.regions, plan.count, scratch)) {
    err.append("cannot write image: ").append(errno_name(-writer.error()));
    return false;
  }
  if (!write_kept_pages(plan.regions, plan.count, writer, err)) return false;
  maybe_write_direct(plan, writer, sink);
  WorkShared w;
  w.plan = &plan;
  w.n_tasks = count_tasks(plan);
  size_t tasks_bytes = (w.n_tasks * sizeof(ChunkTask) + kPage - 1) & ~(kPage - 1);
  long p = tasks_bytes ? sys::mmap(nullptr, tasks_bytes, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                       : 0;
  if (p < 0) {
    err.append("cannot allocate the chunk list");
    return false;
  }
  w.tasks = reinterpret_cast<ChunkTask*>(p);
  fill_tasks(plan, w.tasks);
  w.writer = &writer;
  w.level = level;
  w.volatile_addrs[0] = reinterpret_cast<uint64_t>(&w);  // this thread's stack
  w.volatile_addrs[1] = reinterpret_cast<uint64_t>(&runtime());
  w.volatile_addrs[2] = reinterpret_cast<uint64_t>(g_regions);
  w.volatile_addrs[3] = reinterpret_cast<uint64_t>(&g_n_huge);
  w.pagemap = static_cast<int>(sys::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  // One worker per usable CPU, at most 8, and none idle: a small process
  // (a few chunks) is written by the checkpoint thread alone.
  int n_workers = usable_cpus();
  if (n_workers > 8) n_workers = 8;
  map_copy_in_writer();
  if (static_cast<size_t>(n_workers) > w.n_tasks / 8 + 1)
    n_workers = static_cast<int>(w.n_tasks / 8 + 1);
  // Copy-first: the application runs on meanwhile and has nothing to wait
  // for; the last worker takes only a CPU it leaves idle (SCHED_IDLE).
  if (full_copy_in_use() && n_workers > 1) w.idle_worker = n_workers - 1;
  RawThread workers[8];
  for (int i = 1; i < n_workers; i++)
    raw_thread_start(workers[i], i == w.idle_worker ? idle_chunk_worker : chunk_worker, &w);
  chunk_worker(&w);
  for (int i = 1; i < n_workers; i++) raw_thread_join(workers[i]);
  if (w.pagemap >= 0) sys::close(w.pagemap);
  if (tasks_bytes) sys::munmap(w.tasks, tasks_bytes);
  if (w.error.load()) {
    err.append("cannot write image: ").append(errno_name(-w.error.load()));
    return false;
  }
  return true;
}

void finish_memory(MemoryPlan& plan) {
  release_delta_pages();
  for (int i = 0; i < plan.count; i++) {
    if (!plan.made_readable[i]) continue;
    const RegionRecord& r = plan.regions[i];
    sys::mprotect(reinterpret_cast<void*>(r.start), r.end - r.start, r.prot);
  }
}

}  // namespace ckpt
