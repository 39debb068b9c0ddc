// The fd plugin, restart side (see fd_restore.h).
#include "fd_restore.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

#include "fd_kinds_restore.h"

namespace ckpt {
namespace {

using image::FdKind;
using image::FdRecord;

std::string describe(const FdRecord& r) {
  return "fd " + std::to_string(r.fd) + " (" + std::string(r.path) + ")";
}

bool needs_file(const FdRecord& r) {
  return r.shares_with < 0 &&
         (r.kind == FdKind::kRegular || r.kind == FdKind::kDirectory || r.kind == FdKind::kDevice);
}

bool writable(uint32_t flags) { return (flags & O_ACCMODE) != O_RDONLY; }

// Puts `fd` at `target` (closing fd), with the saved descriptor flags.
bool place(int fd, const FdRecord& r, std::string* err) {
  if (fd != r.fd) {
    if (dup2(fd, r.fd) < 0) {
      *err = "cannot restore " + describe(r) + ": " + std::strerror(errno);
      close(fd);
      return false;
    }
    close(fd);
  }
  fcntl(r.fd, F_SETFD, r.fd_flags & FD_CLOEXEC);
  return true;
}

bool open_file(const FdRecord& r, const FdRestoreOptions& opts, std::string* err) {
  std::string path(r.path);
  int fd = open(path.c_str(), static_cast<int>(r.open_flags) | O_CLOEXEC);
  if (fd < 0) {
    *err = "cannot reopen " + describe(r) + ": " + std::strerror(errno);
    return false;
  }
  if (r.kind == FdKind::kRegular && opts.file_rollback && writable(r.open_flags)) {
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_size > r.size && ftruncate(fd, r.size) != 0) {
      *err = "cannot roll back " + describe(r) + " to " + std::to_string(r.size) +
             " bytes: " + std::strerror(errno);
      close(fd);
      return false;
    }
  }
  if (r.kind == FdKind::kRegular) lseek(fd, r.pos, SEEK_SET);
  return place(fd, r, err);
}

// A file unlinked while open comes back as an anonymous file with its content.
bool recreate_unlinked(const image::LoadedImage& img, const FdRecord& r, std::string* err) {
  std::string dir(r.path);
  size_t slash = dir.rfind('/');
  dir = slash == std::string::npos || slash == 0 ? "/" : dir.substr(0, slash);
  int fd = open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, r.mode & 07777);
  if (fd < 0) fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, r.mode & 07777);
  if (fd < 0) {
    *err = "cannot recreate unlinked " + describe(r) + ": " + std::strerror(errno);
    return false;
  }
  if (!image::copy_file_data(img, static_cast<uint32_t>(r.file_data), fd, err)) {
    *err = "cannot recreate unlinked " + describe(r) + ": " + *err;
    close(fd);
    return false;
  }
  fcntl(fd, F_SETFL, r.open_flags & (O_APPEND | O_NONBLOCK));
  lseek(fd, r.pos, SEEK_SET);
  return place(fd, r, err);
}

// Terminals and pipes lead outside the computation: take ckpt_restart's own
// descriptor of that number if it has one of the same kind, else /dev/null.
bool adopt_outside(const FdRecord& r, std::string* err) {
  struct stat st;
  if (fstat(r.fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) return true;
  int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    *err = "cannot open /dev/null";
    return false;
  }
  if (r.fd > 2)
    std::fprintf(stderr, "ckpt_restart: warning: %s led outside the computation; now /dev/null\n",
                 describe(r).c_str());
  return place(fd, r, err);
}

void close_others(const std::set<int>& keep) {
  DIR* d = opendir("/proc/self/fd");
  if (!d) return;
  std::set<int> open_fds;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') open_fds.insert(std::atoi(e->d_name));
  }
  int own = dirfd(d);
  for (int fd : open_fds)
    if (fd != own && !keep.count(fd)) close(fd);
  closedir(d);
}

}  // namespace

bool check_fds(const image::LoadedImage& img, std::string* err) {
  for (const FdRecord& r : img.fds) {
    if (!needs_file(r)) continue;
    std::string path(r.path);
    if (access(path.c_str(), F_OK) != 0) {
      *err = "cannot reopen " + describe(r) + ": " + std::strerror(errno);
      return false;
    }
  }
  return true;
}

bool restore_fds(const image::LoadedImage& img, const FdRestoreOptions& opts, std::string* err) {
  std::set<int> keep, outside = {0, 1, 2};
  int max_fd = 2;
  for (const FdRecord& r : img.fds) {
    keep.insert(r.fd);
    max_fd = std::max(max_fd, r.fd);
    if (r.kind == FdKind::kTty || r.kind == FdKind::kPipe || r.kind == FdKind::kPtySlave)
      outside.insert(r.fd);
  }
  // Free every number the image uses that ckpt_restart holds for other reasons.
  close_others(outside);
  PipeTable pipes(max_fd + 1);
  for (const FdRecord& r : img.fds) {
    bool ok = true;
    if (r.shares_with >= 0 || r.kind == FdKind::kEpoll) {
      continue;  // second pass, once what they refer to exists
    } else if (r.kind == FdKind::kUnlinked) {
      ok = recreate_unlinked(img, r, err);
    } else if (r.kind == FdKind::kTty || r.kind == FdKind::kPipe || r.kind == FdKind::kPtySlave) {
      ok = adopt_outside(r, err);
    } else if (r.kind == FdKind::kPipeInside) {
      int fd = pipes.end_for(r, err);
      ok = fd >= 0 && place(fd, r, err);
    } else if (r.kind == FdKind::kEventfd || r.kind == FdKind::kTimerfd ||
               r.kind == FdKind::kSignalfd) {
      int fd = create_event_fd(r, err);
      ok = fd >= 0 && place(fd, r, err);
    } else if (needs_file(r)) {
      ok = open_file(r, opts, err);
    } else {
      *err = "cannot restore " + describe(r) + ": unsupported kind";
      ok = false;
    }
    if (!ok) return false;
  }
  for (const FdRecord& r : img.fds) {
    if (r.shares_with < 0 || r.kind == FdKind::kEpoll) continue;
    if (dup2(r.shares_with, r.fd) < 0) {
      *err = "cannot restore " + describe(r) + ": " + std::strerror(errno);
      return false;
    }
    fcntl(r.fd, F_SETFD, r.fd_flags & FD_CLOEXEC);
  }
  if (!pipes.refill(err)) return false;
  for (const FdRecord& r : img.fds) {
    if (r.kind != FdKind::kEpoll) continue;
    if (r.shares_with >= 0) {
      if (dup2(r.shares_with, r.fd) < 0) return false;
      continue;
    }
    int fd = create_epoll(r, err);
    if (fd < 0 || !place(fd, r, err)) return false;
  }
  close_others(keep);
  return true;
}

}  // namespace ckpt
