// Incremental images: chain policy, Lineage and KeptPages (see
// incremental_image.h).
#include "incremental_image.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "ckpt/image_lineage.h"
#include "ckpt/sys.h"
#include "common/image_writer.h"
#include "dirty_tracking.h"
#include "fork_fence.h"
#include "log.h"
#include "memory_capture.h"
#include "proc_files.h"

namespace ckpt {
namespace {

using image::RegionRecord;

constexpr uint64_t kPage = image::kPageSize;
constexpr int kDefaultFullEvery = 8;
constexpr int kDefaultChainMaxPercent = 100;
constexpr int kMaxPageMapRegions = kMaxRegions;

// One image of this process in a chain.
struct Link {
  uint64_t generation = 0;  // 0: none
  PathString path;          // absolute, as written
  uint32_t chain_length = 0;
  uint64_t bytes = 0;        // its size
  uint64_t full_bytes = 0;   // the size of its chain's full image
  uint64_t delta_bytes = 0;  // the incremental images' sizes since then, this one included
  ImageIdentity identity;    // as written (unknown after a restart)
};

Link g_committed;  // the last image of this process in a committed generation
Link g_pending;    // written, not committed yet
Link g_planned;    // the image being written
// The committed image's link checksum, read before the pause (0 generation
// = unreadable).
uint64_t g_parent_checked_generation = 0;
uint32_t g_parent_crc = 0;
bool g_delta = false;  // this image is incremental
const char* g_note = "";
bool g_restarted = false;  // this process was restored from an image
// Decided in the pause, by the application process (the forked writer must
// not probe the kernel again: it has no tracking of its own).
image::Tracking g_tracking = image::Tracking::kNone;

uint64_t monotonic_ns() {
  timespec ts{};
  sys::call2(SYS_clock_gettime, CLOCK_MONOTONIC, reinterpret_cast<long>(&ts));
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

int env_int(const char* name, int fallback) {
  const char* v = getenv(name);
  if (!v || *v < '0' || *v > '9') return fallback;
  int n = 0;
  for (; *v >= '0' && *v <= '9' && n < 100000; v++) n = n * 10 + (*v - '0');
  return n;
}

// The parent's path as this image names it: "../.ckpt_gen_N/NAME" when both
// generation dirs share a directory, else the absolute path.
void relative_parent(std::string_view child, std::string_view parent, PathString& out) {
  auto dir_of = [](std::string_view p) {
    size_t s = p.rfind('/');
    return s == std::string_view::npos ? std::string_view() : p.substr(0, s);
  };
  std::string_view pdir = dir_of(parent);
  out.clear();
  if (!pdir.empty() && dir_of(dir_of(child)) == dir_of(pdir) && !dir_of(pdir).empty())
    out.append("..").append(parent.substr(dir_of(pdir).size()));
  else
    out.append(parent);
}

// The page maps of the delta regions, in the writer: per region, the
// written pages, then the kept ones (KeptPages), one bit each.
struct PageMaps {
  uint64_t* base = nullptr;
  size_t bytes = 0;
  uint64_t offset[kMaxPageMapRegions];  // word offset of region i's maps (delta regions)
};
PageMaps* g_maps = nullptr;

void clear_bits(uint64_t* bits, uint64_t from, uint64_t to) {
  for (uint64_t p = from; p < to; p++) bits[p / 64] &= ~(1ull << (p % 64));
}

void set_bits(uint64_t* bits, uint64_t from, uint64_t to) {
  for (uint64_t p = from; p < to; p++) bits[p / 64] |= 1ull << (p % 64);
}

// Clips each range of `list` to the region and applies f(first, last) in pages.
template <typename F>
void for_ranges(const RegionRecord& r, const PageRange* list, uint32_t n, F&& f) {
  for (uint32_t i = 0; i < n; i++) {
    uint64_t s = list[i].start < r.start ? r.start : list[i].start;
    uint64_t e = list[i].end > r.end ? r.end : list[i].end;
    if (s < e) f((s - r.start) / kPage, (e - r.start) / kPage);
  }
}

void build_region_maps(const RegionRecord& r, uint64_t* written, uint64_t* kept) {
  const TrackedVma* v = find_scanned(r.start, r.end);
  const PageRange* ranges = scan_ranges();
  uint64_t pages = (r.end - r.start) / kPage;
  set_bits(kept, 0, pages);
  for_ranges(r, ranges + v->written, v->n_written, [&](uint64_t a, uint64_t b) {
    set_bits(written, a, b);
    clear_bits(kept, a, b);
  });
  for_ranges(r, ranges + v->empty, v->n_empty,
             [&](uint64_t a, uint64_t b) { clear_bits(kept, a, b); });
}

bool map_pages(const RegionRecord* regions, int count) {
  release_delta_pages();
  size_t words = 0;
  for (int i = 0; i < count; i++)
    if (regions[i].has_content == image::kContentDelta)
      words += 2 * image::KeptPagesHeader::words((regions[i].end - regions[i].start) / kPage);
  size_t bytes = (sizeof(PageMaps) + words * 8 + kPage - 1) & ~(kPage - 1);
  long p = sys::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p < 0 && p > -4096) return false;
  g_maps = reinterpret_cast<PageMaps*>(p);
  g_maps->bytes = bytes;
  g_maps->base = reinterpret_cast<uint64_t*>(g_maps + 1);
  size_t at = 0;
  for (int i = 0; i < count && i < kMaxPageMapRegions; i++) {
    const RegionRecord& r = regions[i];
    if (r.has_content != image::kContentDelta) continue;
    uint64_t n = image::KeptPagesHeader::words((r.end - r.start) / kPage);
    g_maps->offset[i] = at;
    build_region_maps(r, g_maps->base + at, g_maps->base + at + n);
    at += 2 * n;
  }
  return true;
}

}  // namespace

namespace {

// The file is the one this process wrote, unchanged since.
bool as_written(const ImageIdentity& id, const struct stat& st) {
  const uint64_t mtime_ns =
      static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000ull + st.st_mtim.tv_nsec;
  return id.known && id.ino == st.st_ino && id.size == static_cast<uint64_t>(st.st_size) &&
         id.mtime_ns == mtime_ns;
}

}  // namespace

void check_parent_image() {
  g_parent_checked_generation = 0;
  if (!g_committed.generation) return;
  // The application runs: a child it forked now must not inherit our
  // descriptor of the image (it would save it as its own).
  ForkFence fence;
  long fd = sys::open(g_committed.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  uint64_t generation = 0;
  uint32_t crc = 0;
  struct stat st;
  bool stat_ok = sys::call2(sys::kFstat, fd, reinterpret_cast<long>(&st)) == 0;
  if (stat_ok && as_written(g_committed.identity, st)) {
    crc = g_committed.identity.link_crc;
    generation = g_committed.generation;
  } else if (!stat_ok || !image::image_link_crc(static_cast<int>(fd), &crc, &generation)) {
    generation = 0;
  }
  if (generation && generation == g_committed.generation) {
    g_parent_checked_generation = generation;
    g_parent_crc = crc;
    if (!g_committed.bytes) {  // restored from it: its size was not known
      g_committed.bytes = static_cast<uint64_t>(st.st_size);
      if (g_committed.chain_length <= 1)
        g_committed.full_bytes = g_committed.bytes;
      else
        g_committed.delta_bytes += g_committed.bytes;
    }
  }
  sys::close(static_cast<int>(fd));
}

// CKPT_VERBOSE: what the scan found and how long it took (in the pause).
// Pages the last scan found written, in every tracked mapping.
uint64_t scanned_written_pages(int* mappings) {
  const TrackedVma* vmas;
  int n = scanned_vmas(&vmas);
  uint64_t written = 0;
  for (int i = 0; i < n; i++)
    for (uint32_t k = 0; k < vmas[i].n_written; k++) {
      const PageRange& r = scan_ranges()[vmas[i].written + k];
      written += (r.end - r.start) / kPage;
    }
  if (mappings) *mappings = n;
  return written;
}

void log_scan(uint64_t start_ns) {
  int n = 0;
  uint64_t written = scanned_written_pages(&n);
  MessageString msg;
  msg.append("dirty-page scan: ").append_int(n).append(" mappings, ").append_int(written);
  msg.append(" pages written since the last one, ").append_int((monotonic_ns() - start_ns) / 1000);
  msg.append(" us");
  log_line(LogLevel::kInfo, msg.view());
}

void plan_incremental(uint64_t generation, std::string_view image_path) {
  int full_every = env_int("CKPT_FULL_EVERY", kDefaultFullEvery);
  int max_percent = env_int("CKPT_CHAIN_MAX_PERCENT", kDefaultChainMaxPercent);
  uint64_t previous_scan = last_scan_generation();
  g_delta = false;
  uint64_t start_ns = monotonic_ns();
  bool scanned = full_every > 1 && scan_dirty_pages(generation);
  g_tracking = full_every > 1 ? tracking_mode() : image::Tracking::kNone;
  if (scanned) log_scan(start_ns);
  if (full_every <= 1) {
    g_note = "full every checkpoint (--full-every 1): writes not tracked";
  } else if (!scanned) {
    g_note = tracking_mode() == image::Tracking::kNone ? tracking_note()
                                                       : "dirty-page scan failed: full image";
  } else if (!g_committed.generation) {
    g_note = g_restarted ? "first image after a restart" : "first image of this process";
  } else if (previous_scan != g_committed.generation) {
    g_note = "the previous checkpoint was not committed: full image";
  } else if (g_parent_checked_generation != g_committed.generation) {
    g_note = "the parent image is unreadable or changed: full image";
  } else if (g_committed.chain_length + 1 > static_cast<uint32_t>(full_every)) {
    g_note = "chain length reached --full-every";
  } else if (g_committed.delta_bytes * 100 >
             g_committed.full_bytes * static_cast<uint64_t>(max_percent)) {
    g_note = "chain size passed its bound (CKPT_CHAIN_MAX_PERCENT of the full image)";
  } else {
    g_delta = true;
    g_note = "";
  }
  g_planned.generation = generation;
  g_planned.path.clear();
  g_planned.path.append(image_path);
  g_planned.chain_length = g_delta ? g_committed.chain_length + 1 : 1;
  g_planned.bytes = 0;
  g_planned.full_bytes = g_delta ? g_committed.full_bytes : 0;
  g_planned.delta_bytes = g_delta ? g_committed.delta_bytes : 0;
}

bool incremental_planned() { return g_delta; }

uint64_t delta_bytes_planned() { return g_delta ? scanned_written_pages(nullptr) * kPage : 0; }

bool write_lineage(image::ImageWriter& w, MessageString& err) {
  image::LineageRecord rec;
  rec.tracking = g_tracking;
  rec.note = g_note;
  rec.chain_length = g_planned.chain_length;
  PathString parent;
  if (g_delta) {
    relative_parent(g_planned.path.view(), g_committed.path.view(), parent);
    rec.parent_generation = g_committed.generation;
    rec.parent_link_crc = g_parent_crc;
    rec.parent_path = parent.view();
  }
  uint8_t buf[8192];
  ByteWriter out(buf, sizeof(buf));
  rec.encode(out);
  if (out.overflow() ||
      !w.add_section(static_cast<image::Tag>(image::kTagLineage), out.data(), out.size())) {
    err.append("cannot write image: ").append(errno_name(-w.error()));
    return false;
  }
  return true;
}

void mark_delta_region(RegionRecord& r) {
  if (!g_delta || r.has_content != image::kContentFull) return;
  if (r.kind != image::RegionKind::kAnon && r.kind != image::RegionKind::kHeap &&
      r.kind != image::RegionKind::kStack)
    return;
  const TrackedVma* v = find_scanned(r.start, r.end);
  if (v && v->delta) r.has_content = image::kContentDelta;
}

bool write_kept_pages(const RegionRecord* regions, int count, image::ImageWriter& w,
                      MessageString& err) {
  if (!g_delta) return true;
  if (count > kMaxPageMapRegions || !map_pages(regions, count)) {
    err.append("cannot allocate the incremental page maps");
    return false;
  }
  ByteWriter section;
  for (int i = 0; i < count; i++) {
    const RegionRecord& r = regions[i];
    if (r.has_content != image::kContentDelta) continue;
    uint64_t pages = (r.end - r.start) / kPage;
    uint64_t words = image::KeptPagesHeader::words(pages);
    section.clear();
    section.put_u32(static_cast<uint32_t>(i));
    section.put_u64(pages);
    section.put_bytes(g_maps->base + g_maps->offset[i] + words, words * 8);
    if (section.overflow() ||
        !w.add_section(static_cast<image::Tag>(image::kTagKeptPages), section)) {
      err.append("cannot write image: ").append(errno_name(w.error() ? -w.error() : 12));
      return false;
    }
  }
  return true;
}

bool delta_chunk_pages(uint32_t region, uint64_t first_page, uint32_t pages, uint64_t* bits) {
  const uint64_t* written = g_maps->base + g_maps->offset[region] + first_page / 64;
  bool any = false;
  for (uint32_t k = 0; k < image::kChunkPages / 64; k++) {
    uint64_t word = k * 64 < pages ? written[k] : 0;
    if (pages < (k + 1) * 64 && k * 64 < pages) word &= (1ull << (pages - k * 64)) - 1;
    bits[k] = word;
    any |= word != 0;
  }
  return any;
}

void release_delta_pages() {
  if (g_maps) sys::munmap(g_maps, g_maps->bytes);
  g_maps = nullptr;
}

void note_image_written(uint64_t generation, uint64_t bytes, const ImageIdentity& identity) {
  if (g_planned.generation != generation) return;
  g_pending = g_planned;
  g_pending.bytes = bytes;
  g_pending.identity = identity;
  bool delta = g_pending.chain_length > 1;
  if (!delta) g_pending.full_bytes = bytes;
  if (delta) g_pending.delta_bytes += bytes;
}

void note_generation_committed(uint64_t generation) {
  if (g_pending.generation == generation) g_committed = g_pending;
  g_pending = Link{};
}

void forget_incremental_state() {
  g_committed = Link{};
  g_pending = Link{};
  g_planned = Link{};
  g_parent_checked_generation = 0;
  g_delta = false;
  g_maps = nullptr;  // the parent's (a copy in this process, left as it is)
  forget_dirty_tracking(true);
}

void incremental_after_restart() {
  // The first image after a restart is full: between the restore and the
  // first instruction here, the restorer and this thread wrote memory that
  // no image holds, so write-protection armed now would call those pages
  // unchanged (docs/image_format.md). Tracking starts again at that image.
  g_maps = nullptr;
  forget_dirty_tracking(false);
  g_pending = Link{};
  g_committed = Link{};
  g_planned = Link{};
  g_restarted = true;
}

}  // namespace ckpt
