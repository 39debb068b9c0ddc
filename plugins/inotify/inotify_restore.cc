// inotify instances, restart side (see inotify_restore.h).
//
// The kernel numbers the watches of an instance cyclically upward from 1
// (idr_alloc_cyclic): a removed number is not handed out again until the
// numbers wrap. To give a watch the number it had, we take and release the
// numbers before it with placeholder watches on a directory nobody watches,
// then discard the IN_IGNORED events their removal queued.
#include "inotify_restore.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ckpt/byte_codec.h"
#include "plugins/fd/fd_restore.h"
#include "plugins/fd/fd_restore_ops.h"

namespace ckpt {
namespace {

std::string failure(const image::FdRecord& r, const std::string& what) {
  return "cannot recreate inotify fd " + std::to_string(r.fd) + ": " + what + ": " +
         std::strerror(errno);
}

// A directory that none of the watches names (by inode).
const char* placeholder_path(const std::vector<InotifyWatch>& watches) {
  std::vector<std::pair<dev_t, ino_t>> taken;
  struct stat st;
  for (const InotifyWatch& w : watches)
    if (stat(w.path.c_str(), &st) == 0) taken.emplace_back(st.st_dev, st.st_ino);
  for (const char* p : {"/", "/dev", "/tmp", "/etc", "/usr", "/proc", "/sys", "/var"}) {
    if (stat(p, &st) != 0) continue;
    if (std::find(taken.begin(), taken.end(), std::make_pair(st.st_dev, st.st_ino)) == taken.end())
      return p;
  }
  return nullptr;
}

// Discards the events queued so far (the placeholders' IN_IGNORED).
void drain(int fd) {
  alignas(inotify_event) char buf[4096];
  while (read(fd, buf, sizeof(buf)) > 0) {
  }
}

}  // namespace

bool decode_inotify(const image::FdRecord& r, std::vector<InotifyWatch>* out) {
  ByteReader in(r.extra.data(), r.extra.size());
  uint32_t n = in.u32();
  out->clear();
  for (uint32_t i = 0; i < n && in.ok(); i++) {
    InotifyWatch w;
    w.wd = static_cast<int32_t>(in.u32());
    w.mask = in.u32();
    w.path = std::string(in.str());
    out->push_back(std::move(w));
  }
  std::sort(out->begin(), out->end(), [](auto& a, auto& b) { return a.wd < b.wd; });
  return in.ok() && in.remaining() == 0;
}

int create_inotify(const image::FdRecord& r, std::string* err) {
  std::vector<InotifyWatch> watches;
  if (!decode_inotify(r, &watches)) {
    errno = EINVAL;
    *err = failure(r, "malformed record");
    return -1;
  }
  int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd < 0) {
    *err = failure(r, "inotify_init1");
    return -1;
  }
  const char* placeholder = nullptr;
  int next = 1;  // the number the kernel hands out next
  for (const InotifyWatch& w : watches) {
    while (next < w.wd) {
      if (!placeholder && !(placeholder = placeholder_path(watches))) {
        errno = ENOENT;
        *err = failure(r, "no free directory for placeholder watches");
        close(fd);
        return -1;
      }
      int skip = inotify_add_watch(fd, placeholder, IN_ATTRIB);
      if (skip < 0 || inotify_rm_watch(fd, skip) != 0) {
        *err = failure(r, std::string("placeholder watch on ") + placeholder);
        close(fd);
        return -1;
      }
      next = skip + 1;
    }
    int wd = inotify_add_watch(fd, w.path.c_str(), w.mask);
    if (wd != w.wd) {
      if (wd >= 0) errno = EBADSLT;
      *err = failure(r, "watch wd " + std::to_string(w.wd) + " on " + w.path +
                            (wd >= 0 ? " came back as wd " + std::to_string(wd) : ""));
      close(fd);
      return -1;
    }
    next = wd + 1;
  }
  drain(fd);
  if (!(r.open_flags & O_NONBLOCK)) fcntl(fd, F_SETFL, 0);
  return fd;
}

// The inotify family's restore table (plugins/fd/fd_restore_ops.h).
namespace {

int create_inotify_fd(FdRestoreContext&, const image::FdRecord& r, std::string* err) {
  return create_inotify(r, err);
}

constexpr image::FdKind kInotifyKinds[] = {image::FdKind::kInotify};

}  // namespace

extern const FdRestoreOps kInotifyRestoreOps{"inotify", kInotifyKinds, create_inotify_fd};

}  // namespace ckpt
