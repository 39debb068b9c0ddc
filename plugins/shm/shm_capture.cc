// Shared memory objects at a checkpoint (see shm_capture.h).
#include "shm_capture.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "ckpt/sys.h"
#include "common/image_writer.h"
#include "runtime/core/children.h"
#include "runtime/core/proc_files.h"
#include "runtime/core/runtime.h"
#include "runtime/core/runtime_ranges.h"

namespace ckpt {
namespace {

using image::ShmKind;
using image::ShmRecord;

constexpr int kMaxShm = 512;
ShmRecord g_objects[kMaxShm];
int g_n_objects = 0;
ByteWriter g_parent_maps;  // empty: the parent is not in the computation
ByteWriter g_sysv;         // /proc/sysvipc/shm, read on the first SysV mapping
bool g_sysv_read = false;

uint64_t dev_of(const MapEntry& e) {
  return (static_cast<uint64_t>(e.dev_major) << 32) | e.dev_minor;
}

ShmKind kind_of(const MapEntry& e) {
  if (e.path.empty() || e.path.starts_with("/dev/zero")) return ShmKind::kAnon;
  if (e.path.starts_with("/SYSV")) return ShmKind::kSysV;
  if (e.path.starts_with("/memfd:")) return ShmKind::kMemfd;
  return e.deleted ? ShmKind::kDeleted : ShmKind::kNamed;
}

// Does the parent map every byte of [offset, offset + len) of the object?
bool parent_covers(uint64_t dev, uint64_t ino, uint64_t offset, uint64_t len) {
  if (g_parent_maps.size() == 0) return false;
  std::string_view text(reinterpret_cast<const char*>(g_parent_maps.data()), g_parent_maps.size());
  uint64_t pos = offset, end = offset + len;
  for (bool progress = true; pos < end && progress;) {
    progress = false;
    for_each_map(text, [&](const MapEntry& p) {
      if (!p.shared || p.inode != ino || dev_of(p) != dev) return;
      if (p.offset <= pos && pos < p.offset + p.size()) {
        pos = p.offset + p.size();
        progress = true;
      }
    });
  }
  return pos >= end;
}

int64_t parse_int(std::string_view& s) {
  while (!s.empty() && s[0] == ' ') s.remove_prefix(1);
  int64_t v = 0, sign = 1;
  if (!s.empty() && s[0] == '-') sign = -1, s.remove_prefix(1);
  while (!s.empty() && s[0] >= '0' && s[0] <= '9') {
    v = v * 10 + (s[0] - '0');
    s.remove_prefix(1);
  }
  return sign * v;
}

int64_t parse_octal(std::string_view& s) {
  while (!s.empty() && s[0] == ' ') s.remove_prefix(1);
  int64_t v = 0;
  while (!s.empty() && s[0] >= '0' && s[0] <= '7') {
    v = v * 8 + (s[0] - '0');
    s.remove_prefix(1);
  }
  return v;
}

// Key, mode and size of SysV segment `shmid` from /proc/sysvipc/shm:
// "key shmid perms size cpid lpid nattch ...".
bool sysv_info(int32_t shmid, ShmRecord& o) {
  if (!g_sysv_read) {
    g_sysv.clear();
    g_sysv_read = read_whole_file("/proc/sysvipc/shm", g_sysv);
  }
  std::string_view text(reinterpret_cast<const char*>(g_sysv.data()), g_sysv.size());
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    int64_t key = parse_int(line);
    int64_t id = parse_int(line);
    if (id != shmid || line.empty()) continue;
    int64_t perms = parse_octal(line);
    int64_t size = parse_int(line);
    o.key = static_cast<int32_t>(key);
    o.mode = static_cast<uint32_t>(perms & 0777);
    o.flags = (perms & 01000 /* SHM_DEST */) ? image::kShmRemoved : 0;
    o.size = static_cast<uint64_t>(size);
    return true;
  }
  return false;
}

// st_size and mode of the object behind a mapping: its path if it has one,
// else /proc/self/map_files (needs CAP_SYS_ADMIN; else 0 and the caller
// falls back to the extent of the mappings).
bool object_stat(const MapEntry& e, ShmKind kind, struct stat& st) {
  PathString path;
  if (kind == ShmKind::kNamed) {
    path.append(e.path);
  } else {
    path.append("/proc/self/map_files/");
    FixedString<40> range;
    range.append_hex(e.start).append('-').append_hex(e.end);
    // map_files names are bare lowercase hex: drop the "0x" append_hex adds.
    std::string_view r = range.view();
    size_t dash = r.find('-');
    path.append(r.substr(2, dash - 2)).append('-').append(r.substr(dash + 3));
  }
  return sys::call4(sys::kNewfstatat, AT_FDCWD, reinterpret_cast<long>(path.c_str()),
                    reinterpret_cast<long>(&st), 0) == 0 &&
         st.st_ino == e.inode;
}

ShmRecord* find_or_add(const MapEntry& e, MessageString& err) {
  uint64_t dev = dev_of(e);
  for (int i = 0; i < g_n_objects; i++)
    if (g_objects[i].dev == dev && g_objects[i].ino == e.inode) return &g_objects[i];
  if (g_n_objects == kMaxShm) {
    err.append("more than ").append_int(kMaxShm).append(" shared memory objects");
    return nullptr;
  }
  ShmRecord& o = g_objects[g_n_objects++];
  o = ShmRecord{};
  o.dev = dev;
  o.ino = e.inode;
  o.kind = kind_of(e);
  if (o.kind == ShmKind::kSysV) {
    auto real_id = static_cast<int32_t>(e.inode);
    o.shmid = runtime().shmids.to_virtual(real_id);  // the id the application knows
    if (!sysv_info(real_id, o)) {
      err.append("SysV shared memory segment ").append_int(real_id).append(" at ");
      err.append_hex(e.start).append(" is not in /proc/sysvipc/shm");
      g_n_objects--;
      return nullptr;
    }
    return &o;
  }
  if (o.kind == ShmKind::kMemfd) o.path = e.path.substr(1);
  if (o.kind == ShmKind::kNamed || o.kind == ShmKind::kDeleted) o.path = e.path;
  struct stat st;
  if (object_stat(e, o.kind, st)) {
    o.size = static_cast<uint64_t>(st.st_size);
    o.mode = st.st_mode & 07777;
  } else {
    o.mode = 0600;
  }
  return &o;
}

}  // namespace

void shm_capture_begin() {
  g_n_objects = 0;
  g_sysv_read = false;
  g_parent_maps.clear();
  auto ppid = static_cast<int32_t>(sys::getppid());
  if (ppid <= 1 || !is_member_process(ppid)) return;
  FixedString<64> path;
  path.append("/proc/").append_int(ppid).append("/maps");
  if (!read_whole_file(path.c_str(), g_parent_maps)) g_parent_maps.clear();
  exclude_range(g_parent_maps.data(), g_parent_maps.capacity());
}

bool shm_capture_region(const MapEntry& e, image::RegionRecord& r, MessageString& err) {
  ShmRecord* o = find_or_add(e, err);
  if (!o) return false;
  uint64_t extent = e.offset + e.size();
  if (o->size < extent) o->size = extent;  // map_files unreadable, or mapped past the end
  r.has_content = parent_covers(r.dev, r.ino, r.offset, r.end - r.start) ? 0 : image::kContentFull;
  return true;
}

bool write_shm_objects(image::ImageWriter& w, MessageString& err) {
  if (g_n_objects == 0) return true;
  ByteWriter scratch;
  if (!w.add_records(image::Tag::kShmObjects, g_objects, g_n_objects, scratch)) {
    err.append("cannot write image: ").append(errno_name(-w.error()));
    return false;
  }
  return true;
}

void shm_capture_end() {
  g_parent_maps.release();
  g_sysv.release();
}

}  // namespace ckpt
