// Shared memory objects at a restart (see shm_restore.h).
#include "shm_restore.h"

#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "ckpt/maps.h"
#include "ckpt/restore_args.h"

namespace ckpt {
namespace {

using image::ShmKind;
constexpr uint64_t kPage = 4096;

uint64_t page_up(uint64_t v) { return (v + kPage - 1) & ~(kPage - 1); }

std::string describe(const image::ShmRecord& r) {
  switch (r.kind) {
    case ShmKind::kAnon:
      return "shared anonymous memory";
    case ShmKind::kMemfd:
      return "memfd " + std::string(r.path);
    case ShmKind::kNamed:
      return "shared memory file " + std::string(r.path);
    case ShmKind::kDeleted:
      return "deleted shared memory file " + std::string(r.path);
    case ShmKind::kSysV:
      return "System V shared memory segment " + std::to_string(r.shmid);
  }
  return "shared memory";
}

std::string sys_error(const std::string& what) { return what + ": " + std::strerror(errno); }

int make_memfd(std::string_view name) {
  std::string n(name.empty() ? "ckpt-shm" : name);
  if (n.size() > 240) n.resize(240);
  return memfd_create(n.c_str(), MFD_CLOEXEC);
}

// An unlinked file in the directory the deleted one was in (tmpfs), else a memfd.
int make_unlinked(const image::ShmRecord& r) {
  std::string dir(r.path);
  size_t slash = dir.rfind('/');
  dir = slash == std::string::npos || slash == 0 ? "/" : dir.substr(0, slash);
  int fd = open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, r.mode & 07777);
  if (fd >= 0) return fd;
  std::string name(r.path);
  return make_memfd(name.substr(name.rfind('/') + 1));
}

// A free range of `size` bytes outside every image's memory and our own.
uint64_t free_address(const std::vector<image::LoadedImage>& images, uint64_t size) {
  std::vector<std::pair<uint64_t, uint64_t>> busy;
  for (const auto& img : images)
    for (const auto& r : img.regions) busy.emplace_back(r.start, r.end);
  std::ifstream in("/proc/self/maps");
  std::stringstream ss;
  ss << in.rdbuf();
  for_each_map(ss.str(), [&](const MapEntry& e) { busy.emplace_back(e.start, e.end); });
  std::sort(busy.begin(), busy.end());
  // The highest gap below the usual mmap area's top, with guard pages.
  uint64_t best = 0, cursor = 1ull << 32;
  constexpr uint64_t kTop = 0x7ff000000000ull;
  auto consider = [&](uint64_t gap_start, uint64_t gap_end) {
    gap_start += 16 * kPage;
    if (gap_end < gap_start + 16 * kPage) return;
    gap_end -= 16 * kPage;
    if (gap_end - gap_start >= size) best = std::max(best, (gap_end - size) & ~(kPage - 1));
  };
  for (const auto& [s, e] : busy) {
    if (e <= cursor) continue;
    if (s > cursor) consider(cursor, std::min(s, kTop));
    cursor = std::max(cursor, e);
    if (cursor >= kTop) break;
  }
  if (cursor < kTop) consider(cursor, kTop);
  return best;
}

}  // namespace

bool is_shm_region(const image::LoadedImage& img, const image::RegionRecord& r) {
  if (r.kind != image::RegionKind::kAnonShared) return false;
  for (const auto& o : img.shm_objects)
    if (o.dev == r.dev && o.ino == r.ino) return true;
  return false;
}

ShmRestorer::ShmRestorer(const std::vector<image::LoadedImage>& images, bool rollback)
    : images_(images), rollback_(rollback) {
  for (const auto& img : images) {
    for (const auto& rec : img.shm_objects) {
      auto [it, fresh] = objects_.try_emplace({rec.dev, rec.ino});
      if (fresh) it->second.record = rec;
      it->second.record.size = std::max(it->second.record.size, rec.size);
    }
    for (const auto& r : img.regions) {
      auto it = objects_.find({r.dev, r.ino});
      if (r.kind != image::RegionKind::kAnonShared || it == objects_.end()) continue;
      it->second.record.size = std::max(it->second.record.size, r.offset + (r.end - r.start));
    }
  }
}

const ShmObject* ShmRestorer::find(uint64_t dev, uint64_t ino) const {
  auto it = objects_.find({dev, ino});
  return it == objects_.end() ? nullptr : &it->second;
}

int ShmRestorer::adopt(const image::FdRecord& r) const {
  if (r.kind != image::FdKind::kUnlinked) return -1;
  uint64_t dev = (uint64_t{major(r.dev)} << 32) | minor(r.dev);
  const ShmObject* o = find(dev, r.ino);
  if (!o || o->fd < 0) return -1;
  std::string self = "/proc/self/fd/" + std::to_string(o->fd);  // a magic link: no O_NOFOLLOW
  int fd = open(
      self.c_str(),
      (static_cast<int>(r.open_flags) & ~(O_CREAT | O_TRUNC | O_EXCL | O_NOFOLLOW)) | O_CLOEXEC);
  if (fd >= 0) lseek(fd, r.pos, SEEK_SET);
  return fd;
}

std::vector<int> ShmRestorer::fds() const {
  std::vector<int> out;
  for (const auto& [key, o] : objects_)
    if (o.fd >= 0) out.push_back(o.fd);
  return out;
}

std::vector<uint64_t> ShmRestorer::temp_attachments() const {
  std::vector<uint64_t> out;
  for (const auto& [key, o] : objects_)
    if (o.temp_attach) out.push_back(o.temp_attach);
  return out;
}

std::vector<std::pair<int32_t, int32_t>> ShmRestorer::shmid_map() const {
  std::vector<std::pair<int32_t, int32_t>> out;
  for (const auto& [key, o] : objects_)
    if (o.record.kind == ShmKind::kSysV && o.shmid != o.record.shmid)
      out.emplace_back(o.record.shmid, o.shmid);
  return out;
}

bool ShmRestorer::create_sysv(ShmObject& o, std::string* err) {
  const image::ShmRecord& r = o.record;
  int mode = static_cast<int>(r.mode & 0777);
  bool fresh_key = r.key == IPC_PRIVATE || (r.flags & image::kShmRemoved);
  key_t key = fresh_key ? IPC_PRIVATE : r.key;
  o.shmid = shmget(key, r.size, IPC_CREAT | IPC_EXCL | mode);
  bool reused = false;
  if (o.shmid < 0 && errno == EEXIST) {  // the segment outlived the computation: reuse it
    o.shmid = shmget(key, r.size, mode);
    reused = true;
  }
  if (o.shmid < 0) {
    *err = sys_error("cannot recreate " + describe(r) + " (key " + std::to_string(r.key) + ")");
    return false;
  }
  uint64_t len = page_up(r.size);
  uint64_t at = free_address(images_, len);
  void* p = at ? shmat(o.shmid, reinterpret_cast<void*>(at), 0) : reinterpret_cast<void*>(-1);
  if (p == reinterpret_cast<void*>(-1)) {
    *err = sys_error("cannot attach " + describe(r));
    return false;
  }
  o.temp_attach = reinterpret_cast<uint64_t>(p);
  if (reused) std::memset(p, 0, r.size);  // its content is the checkpoint's
  // Removed at the checkpoint: removed now, kept alive by the attachments.
  if ((r.flags & image::kShmRemoved) && shmctl(o.shmid, IPC_RMID, nullptr) != 0) {
    *err = sys_error("cannot remove " + describe(r));
    return false;
  }
  return true;
}

bool ShmRestorer::create(ShmObject& o, int fd_floor, std::string* err) {
  const image::ShmRecord& r = o.record;
  if (r.kind == ShmKind::kSysV) return create_sysv(o, err);
  int fd = -1;
  bool existed = false;
  switch (r.kind) {
    case ShmKind::kAnon:
      fd = make_memfd("ckpt-anon-shared");
      break;
    case ShmKind::kMemfd:
      fd = make_memfd(r.path.starts_with("memfd:") ? r.path.substr(6) : r.path);
      break;
    case ShmKind::kDeleted:
      fd = make_unlinked(r);
      break;
    default: {
      std::string path(r.path);
      fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, r.mode & 07777);
      if (fd < 0 && errno == EEXIST) {
        existed = true;
        fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0 && errno == EACCES) fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
      }
      break;
    }
  }
  if (fd < 0) return *err = sys_error("cannot recreate " + describe(r)), false;
  o.fill = !existed || rollback_;
  struct stat st;
  bool grow = fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) < r.size;
  if ((o.fill || grow) && ftruncate(fd, static_cast<off_t>(r.size)) != 0) {
    *err = sys_error("cannot size " + describe(r) + " to " + std::to_string(r.size) + " bytes");
    close(fd);
    return false;
  }
  o.fd = fcntl(fd, F_DUPFD_CLOEXEC, fd_floor);
  close(fd);
  if (o.fd < 0) return *err = sys_error("cannot keep " + describe(r)), false;
  return true;
}

// Every image's saved content into the objects, at its file offset.
bool ShmRestorer::fill_all(std::string* err) {
  std::map<Key, uint8_t*> base;  // the whole object mapped here, or its attachment
  auto unmap_all = [&] {
    for (auto& [key, p] : base)
      if (!objects_[key].temp_attach) munmap(p, page_up(objects_[key].record.size));
  };
  for (auto& [key, o] : objects_) {
    if (!o.fill || o.record.size == 0) continue;
    if (o.temp_attach) {
      base[key] = reinterpret_cast<uint8_t*>(o.temp_attach);
      continue;
    }
    void* p = mmap(nullptr, page_up(o.record.size), PROT_READ | PROT_WRITE, MAP_SHARED, o.fd, 0);
    if (p == MAP_FAILED) {
      unmap_all();
      return *err = sys_error("cannot map " + describe(o.record)), false;
    }
    base[key] = static_cast<uint8_t*>(p);
  }
  int workers = static_cast<int>(std::min(8u, std::max(1u, std::thread::hardware_concurrency())));
  for (const auto& img : images_) {
    bool any = false;
    auto dest = [&](uint32_t i) -> uint8_t* {
      const auto& r = img.regions[i];
      auto it = base.find({r.dev, r.ino});
      if (r.kind != image::RegionKind::kAnonShared || it == base.end()) return nullptr;
      uint8_t* at = it->second + r.offset;
      const ShmObject& o = objects_[it->first];
      if (r.offset + (r.end - r.start) > page_up(o.record.size)) return nullptr;
      // A named file rolled back: pages saved as zero must become zero.
      if (!o.temp_attach && o.record.kind == ShmKind::kNamed) std::memset(at, 0, r.end - r.start);
      any = true;
      return at;
    };
    if (!image::load_memory(img, dest, workers, err)) {
      unmap_all();
      *err = img.path + ": " + *err;
      return false;
    }
    (void)any;
  }
  unmap_all();
  return true;
}

bool ShmRestorer::create_all(int fd_floor, std::string* err) {
  if (objects_.empty()) return true;
  if (objects_.size() > kMaxRestoreShm) {
    *err = "more than " + std::to_string(kMaxRestoreShm) + " shared memory objects";
    return false;
  }
  rlimit lim;
  getrlimit(RLIMIT_NOFILE, &lim);
  rlim_t need = static_cast<rlim_t>(fd_floor) + objects_.size() + 16;
  if (lim.rlim_cur < need) {
    lim.rlim_cur = std::min(lim.rlim_max, need);
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  for (auto& [key, o] : objects_)
    if (!create(o, fd_floor, err)) return false;
  return fill_all(err);
}

}  // namespace ckpt
