// Memory planning for a restart: where each region of the image goes (see
// memory_plan.h).
#include "memory_plan.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include "ckpt/maps.h"
#include "plugins/shm/shm_restore.h"

namespace ckpt {
namespace {

using image::RegionKind;
constexpr uint64_t kPage = 4096;
constexpr uint64_t kHuge = 2ull << 20;
constexpr uint64_t kLowest = 1ull << 32;          // keep clear of low addresses
constexpr uint64_t kHighest = 0x7ffffffff000ull;  // top of user space (47 bits)

struct Interval {
  uint64_t start, end;
};

std::string read_own_maps() {
  std::ifstream in("/proc/self/maps");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool is_special(RegionKind k) {
  return k == RegionKind::kVdso || k == RegionKind::kVvar || k == RegionKind::kVvarVclock;
}

const char* special_name(RegionKind k) {
  switch (k) {
    case RegionKind::kVdso:
      return "[vdso]";
    case RegionKind::kVvar:
      return "[vvar]";
    default:
      return "[vvar_vclock]";
  }
}

// Pair the image's vvar/vdso with ours: same kinds, same sizes.
bool plan_specials(const image::LoadedImage& img, const std::string& maps, MemoryPlan* plan,
                   std::string* err) {
  for (RegionKind k : {RegionKind::kVvar, RegionKind::kVvarVclock, RegionKind::kVdso}) {
    const image::RegionRecord* theirs = nullptr;
    for (const auto& r : img.regions)
      if (r.kind == k) theirs = &r;
    MapEntry ours{};
    bool have = false;
    for_each_map(maps, [&](const MapEntry& e) {
      if (e.path == special_name(k)) ours = e, have = true;
    });
    if (!theirs && !have) continue;
    uint64_t their_len = theirs ? theirs->end - theirs->start : 0;
    if (!theirs || !have || their_len != ours.size()) {
      *err = std::string("this kernel's ") + special_name(k) + " (" + std::to_string(ours.size()) +
             " bytes) differs from the image's (" + std::to_string(their_len) +
             " bytes): restart on a machine with the same kernel";
      return false;
    }
    plan->specials.push_back({ours.start, theirs->start, their_len, theirs->prot, 0});
    plan->parking_len += their_len;
  }
  return true;
}

// The main stack grows on demand; a restored one is a fixed mapping, so give
// it room below, up to its rlimit (8 MiB at most), short of any neighbour.
void add_stack_extension(const image::LoadedImage& img, uint32_t index, MemoryPlan* plan,
                         std::vector<Interval>* busy) {
  const auto& r = img.regions[index];
  uint64_t limit = img.process.rlimits[RLIMIT_STACK].cur;
  if (limit > (8ull << 20)) limit = 8ull << 20;
  uint64_t have = r.end - r.start;
  if (limit <= have) return;
  uint64_t floor = 0;
  for (const auto& o : img.regions)
    if (o.end <= r.start && o.end > floor) floor = o.end;
  uint64_t start = (r.start - (limit - have)) & ~(kPage - 1);
  if (start < floor + 16 * kPage) start = floor + 16 * kPage;
  if (start >= r.start) return;
  plan->temps.push_back({UINT32_MAX, 0, start, r.start - start, r.prot, RegionKind::kAnon});
  busy->push_back({start, r.start});
}

// The highest free range of `size` bytes (plus a guard page each side).
uint64_t find_free(std::vector<Interval> busy, uint64_t size) {
  std::sort(busy.begin(), busy.end(), [](auto& a, auto& b) { return a.start < b.start; });
  uint64_t best = 0;
  uint64_t cursor = kLowest;
  auto consider = [&](uint64_t gap_start, uint64_t gap_end) {
    gap_start += kPage;
    if (gap_end < kPage || gap_end - kPage < gap_start) return;
    gap_end -= kPage;
    if (gap_end - gap_start >= size) best = std::max(best, (gap_end - size) & ~(kPage - 1));
  };
  for (const auto& b : busy) {
    if (b.end <= cursor) continue;
    if (b.start > cursor) consider(cursor, std::min(b.start, kHighest));
    cursor = std::max(cursor, b.end);
  }
  if (cursor < kHighest) consider(cursor, kHighest);
  return best;
}

}  // namespace

bool plan_memory(const image::LoadedImage& img, uint64_t hole_size, MemoryPlan* plan,
                 std::string* err) {
  std::string maps = read_own_maps();
  if (!plan_specials(img, maps, plan, err)) return false;
  std::vector<Interval> busy;
  for_each_map(maps, [&](const MapEntry& e) { busy.push_back({e.start, e.end}); });
  for (uint32_t i = 0; i < img.regions.size(); i++) {
    const auto& r = img.regions[i];
    if (r.kind == RegionKind::kVsyscall) continue;
    busy.push_back({r.start, r.end});
    if (is_special(r.kind)) continue;
    if (is_shm_region(img, r)) {  // mapped from the object ckpt_restart made
      plan->shm_regions.push_back(i);
      continue;
    }
    if (r.kind == RegionKind::kFileShared) {
      plan->shared_files.push_back(i);
      if (!r.has_content) continue;  // content is written back through a temporary
    }
    plan->temps.push_back({i, 0, r.start, r.end - r.start, r.prot, r.kind});
    if (r.kind == RegionKind::kStack) add_stack_extension(img, i, plan, &busy);
  }
  plan->hole_len = (hole_size + plan->parking_len + kPage - 1) & ~(kPage - 1);
  // Each temporary sits at the same offset modulo 2 MiB as its target, so
  // that huge pages are moved whole (mremap moves aligned PMDs).
  uint64_t temp_len = 0;
  for (const auto& t : plan->temps) temp_len += t.len + kHuge;
  plan->reserve_len = plan->hole_len + temp_len;
  plan->reserve_start = find_free(busy, plan->reserve_len);
  if (!plan->reserve_start) {
    *err = "no free address range of " + std::to_string(plan->reserve_len >> 20) +
           " MiB outside the image's memory";
    return false;
  }
  void* p = mmap(reinterpret_cast<void*>(plan->reserve_start), plan->reserve_len, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED) {
    *err = std::string("cannot reserve the restore area: ") + std::strerror(errno);
    return false;
  }
  plan->hole_start = plan->reserve_start;
  plan->temp_start = plan->hole_start + plan->hole_len;
  plan->temp_len = temp_len;
  uint64_t cursor = plan->temp_start;
  for (auto& t : plan->temps) {
    cursor += (t.target - cursor) & (kHuge - 1);
    t.temp = cursor;
    cursor += t.len;
  }
  return true;
}

namespace {

// Opens a file a region refers to, checking it is the one of the checkpoint.
int open_referenced(const image::RegionRecord& r, std::string* err) {
  std::string path(r.path);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    *err = path + ": " + std::strerror(errno) + " (the image refers to it; checkpoint with " +
           "--embed-files for a machine without it)";
    if (fd >= 0) close(fd);
    return -1;
  }
  uint64_t mtime = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000ull + st.st_mtim.tv_nsec;
  if (static_cast<uint64_t>(st.st_size) != r.file_size || mtime != r.file_mtime_ns) {
    *err = path + ": changed since the checkpoint (size or modification time differ); restart " +
           "with the same file, or checkpoint with --embed-files";
    close(fd);
    return -1;
  }
  return fd;
}

bool map_from_file(const image::RegionRecord& r, const TempRegion& t, std::string* err) {
  std::string path(r.path);
  int fd = open_referenced(r, err);
  if (fd < 0) return false;
  void* p = mmap(reinterpret_cast<void*>(t.temp), t.len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_FIXED, fd, static_cast<off_t>(r.offset));
  close(fd);
  if (p == MAP_FAILED) {
    *err = path + ": cannot map: " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace

bool check_referenced_files(const image::LoadedImage& img, std::string* err) {
  for (const auto& r : img.regions) {
    if (r.has_content != image::kContentModified) continue;
    int fd = open_referenced(r, err);
    if (fd < 0) return false;
    close(fd);
  }
  return true;
}

bool map_temporaries(const image::LoadedImage& img, const MemoryPlan& plan, std::string* err) {
  for (const auto& t : plan.temps) {
    if (t.region != UINT32_MAX && img.regions[t.region].has_content == image::kContentModified) {
      if (!map_from_file(img.regions[t.region], t, err)) return false;
      continue;
    }
    int sharing = t.kind == RegionKind::kAnonShared ? MAP_SHARED : MAP_PRIVATE;
    void* p = mmap(reinterpret_cast<void*>(t.temp), t.len, PROT_READ | PROT_WRITE,
                   sharing | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      *err = std::string("cannot map memory for the restore: ") + std::strerror(errno);
      return false;
    }
    // Memory that had huge pages gets them again as it is filled.
    if (t.region != UINT32_MAX && img.regions[t.region].huge) madvise(p, t.len, MADV_HUGEPAGE);
  }
  return true;
}

}  // namespace ckpt
