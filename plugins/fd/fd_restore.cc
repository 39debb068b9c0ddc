// The fd plugin, restart side (see fd_restore.h).
#include "fd_restore.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

#include "fd_kinds_restore.h"
#include "host_local_path.h"
#include "inotify_restore.h"

namespace ckpt {
namespace {

using image::FdKind;
using image::FdRecord;

std::string describe(const FdRecord& r) {
  return "fd " + std::to_string(r.fd) + " (" + std::string(r.path) + ")";
}

bool is_file(const FdRecord& r) {
  return r.kind == FdKind::kRegular || r.kind == FdKind::kDirectory || r.kind == FdKind::kDevice;
}

bool writable(uint32_t flags) { return (flags & O_ACCMODE) != O_RDONLY; }

// A host-local file (content saved, see fd_capture.cc) that this host does
// not have: made again, with its directories, from the saved content.
bool recreate_host_local(const image::LoadedImage& img, const FdRecord& r, std::string* err) {
  std::string path(r.path);
  make_parent_dirs(path);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, r.mode & 07777);
  if (fd < 0) {
    if (errno == EEXIST) return true;  // another process of this restart made it
    *err = "cannot recreate " + describe(r) + ": " + std::strerror(errno);
    return false;
  }
  bool ok = image::copy_file_data(img, static_cast<uint32_t>(r.file_data), fd, err);
  close(fd);
  if (!ok) *err = "cannot recreate " + describe(r) + ": " + *err;
  return ok;
}

bool missing_but_saved(const FdRecord& r) {
  std::string path(r.path);
  return r.kind == FdKind::kRegular && r.file_data >= 0 && access(path.c_str(), F_OK) != 0;
}

int open_file(const image::LoadedImage& img, const FdRecord& r, const FdRestoreOptions& opts,
              std::string* err) {
  std::string path(r.path);
  if (missing_but_saved(r) && !recreate_host_local(img, r, err)) return -1;
  int fd = open(path.c_str(), static_cast<int>(r.open_flags) | O_CLOEXEC);
  if (fd < 0) {
    *err = "cannot reopen " + describe(r) + ": " + std::strerror(errno);
    return -1;
  }
  if (r.kind == FdKind::kRegular && opts.file_rollback && writable(r.open_flags)) {
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_size > r.size && ftruncate(fd, r.size) != 0) {
      *err = "cannot roll back " + describe(r) + " to " + std::to_string(r.size) +
             " bytes: " + std::strerror(errno);
      close(fd);
      return -1;
    }
  }
  if (r.kind == FdKind::kRegular) lseek(fd, r.pos, SEEK_SET);
  return fd;
}

// A file unlinked while open comes back as an anonymous file with its content.
int recreate_unlinked(const image::LoadedImage& img, const FdRecord& r, std::string* err) {
  std::string dir(r.path);
  size_t slash = dir.rfind('/');
  dir = slash == std::string::npos || slash == 0 ? "/" : dir.substr(0, slash);
  int fd = open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, r.mode & 07777);
  if (fd < 0) fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, r.mode & 07777);
  if (fd < 0) {
    *err = "cannot recreate unlinked " + describe(r) + ": " + std::strerror(errno);
    return -1;
  }
  if (!image::copy_file_data(img, static_cast<uint32_t>(r.file_data), fd, err)) {
    *err = "cannot recreate unlinked " + describe(r) + ": " + *err;
    close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, r.open_flags & (O_APPEND | O_NONBLOCK));
  lseek(fd, r.pos, SEEK_SET);
  return fd;
}

// A terminal outside the computation: ckpt_restart's own descriptor of that
// number if it has one of the same kind, else /dev/null.
int adopt_terminal(const FdRecord& r) {
  struct stat st;
  if (fstat(r.fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)))
    return fcntl(r.fd, F_DUPFD_CLOEXEC, 0);
  if (r.fd > 2)
    std::fprintf(stderr, "ckpt_restart: warning: %s led outside the computation; now /dev/null\n",
                 describe(r).c_str());
  return open("/dev/null", O_RDWR | O_CLOEXEC);
}

std::set<int> open_fds() {
  std::set<int> fds;
  DIR* d = opendir("/proc/self/fd");
  if (!d) return fds;
  while (dirent* e = readdir(d))
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') fds.insert(std::atoi(e->d_name));
  fds.erase(dirfd(d));
  closedir(d);
  return fds;
}

// Old images (no owner recorded) share only inside one process.
bool has_owner(const FdRecord& r) { return r.owner_pid != 0; }

}  // namespace

bool check_fds(const image::LoadedImage& img, std::string* err) {
  for (const FdRecord& r : img.fds) {
    if (!is_file(r) || (r.kind == FdKind::kRegular && r.file_data >= 0)) continue;
    std::string path(r.path);
    if (access(path.c_str(), F_OK) != 0) {
      *err = "cannot reopen " + describe(r) + ": " + std::strerror(errno);
      return false;
    }
  }
  return true;
}

FdRestorer::FdRestorer(const std::vector<image::LoadedImage>& images, FdRestoreOptions opts)
    : images_(images), opts_(opts) {}

FdRestorer::Key FdRestorer::key_of(size_t image, const FdRecord& r) const {
  if (has_owner(r)) return {r.owner_pid, r.owner_fd};
  int32_t pid = images_[image].process.real_pid;
  return {pid, r.shares_with >= 0 ? r.shares_with : r.fd};
}

int FdRestorer::create(size_t image, const FdRecord& r, std::string* err) {
  const image::LoadedImage& img = images_[image];
  if (int fd = adopt_ ? adopt_(r) : -1; fd >= 0) return fd;
  switch (r.kind) {
    case FdKind::kUnlinked:
      return recreate_unlinked(img, r, err);
    case FdKind::kTty:
      return adopt_terminal(r);
    case FdKind::kPipe:
    case FdKind::kPipeInside: {
      PipeEnd end;
      if (!decode_pipe_end(r, &end)) return adopt_terminal(r);  // an old image's outside pipe
      return pipes_.open_end(r, end, err);
    }
    case FdKind::kEventfd:
    case FdKind::kTimerfd:
    case FdKind::kSignalfd:
      return create_event_fd(r, err);
    case FdKind::kPtyMaster:
      return ptys_.master_for(r, err);
    case FdKind::kPtySlave:
      return ptys_.slave_is_outside(r) ? adopt_terminal(r) : ptys_.slave_for(r, err);
    case FdKind::kInotify:
      return create_inotify(r, err);
    case FdKind::kFifo:
      return fifos_.open_for(r, err);
    case FdKind::kSocket:
      return sockets_.open_for(r, img.process.host, err);
    default:
      if (is_file(r)) return open_file(img, r, opts_, err);
      *err = "cannot restore " + describe(r) + ": unsupported kind";
      return -1;
  }
}

bool FdRestorer::park(const Key& key, int fd, std::string* err) {
  int number = park_base_ + static_cast<int>(parked_.size());
  if (dup2(fd, number) < 0) {
    *err = "cannot park a descriptor at " + std::to_string(number) + ": " + std::strerror(errno);
    close(fd);
    return false;
  }
  if (fd != number) close(fd);
  parked_[key] = number;
  return true;
}

bool FdRestorer::create_all(std::string* err) {
  size_t descriptions = 0;
  int highest = 2;
  for (const auto& img : images_)
    for (const FdRecord& r : img.fds) {
      highest = std::max(highest, r.fd);
      descriptions++;
      PipeEnd end;
      if ((r.kind == FdKind::kPipe || r.kind == FdKind::kPipeInside) && decode_pipe_end(r, &end))
        pipes_.note(end);
      ptys_.add(r);
      if (r.kind == FdKind::kSocket) sockets_.note(r, img.process.cwd, img.process.host, false);
    }
  if (opts_.elsewhere)
    for (const auto& img : *opts_.elsewhere)
      for (const FdRecord& r : img.fds)
        if (r.kind == FdKind::kSocket) sockets_.note(r, img.process.cwd, img.process.host, true);
  sockets_.set_network(opts_.network);
  std::set<int> mine = open_fds();
  if (!mine.empty()) highest = std::max(highest, *mine.rbegin());
  // Parked numbers lie above the lowest free ones, where the tables keep
  // their temporaries (a pipe's two ends, a pty's master, a FIFO's anchor).
  park_base_ = highest + 1 + 3 * static_cast<int>(descriptions) + 64;
  park_end_ = park_base_ + static_cast<int>(descriptions) + 1;
  rlimit lim;
  getrlimit(RLIMIT_NOFILE, &lim);
  rlim_t need = static_cast<rlim_t>(park_end_) + 64;
  if (lim.rlim_cur < need) {
    lim.rlim_cur = std::min(lim.rlim_max, std::max(need, lim.rlim_cur));
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  if (!sockets_.connect_hosts(err)) return false;
  for (size_t i = 0; i < images_.size(); i++) {
    for (const FdRecord& r : images_[i].fds) {
      Key key = key_of(i, r);
      if (r.kind == FdKind::kEpoll || parked_.count(key)) continue;
      int fd = create(i, r, err);
      if (fd < 0 || !park(key, fd, err)) return false;
    }
  }
  fifos_.release();
  return sockets_.finish(err) && pipes_.finish(err);
}

bool FdRestorer::place(size_t i, std::string* err) {
  const image::LoadedImage& img = images_[i];
  auto put = [&](const FdRecord& r, int from) {
    if (dup2(from, r.fd) < 0) {
      *err = "cannot restore " + describe(r) + ": " + std::strerror(errno);
      return false;
    }
    fcntl(r.fd, F_SETFD, r.fd_flags & FD_CLOEXEC);
    return true;
  };
  for (const FdRecord& r : img.fds) {
    auto it = parked_.find(key_of(i, r));
    if (r.kind == FdKind::kEpoll && it == parked_.end()) continue;
    if (r.kind != FdKind::kEpoll && it == parked_.end()) {
      *err = "cannot restore " + describe(r) + ": its description was not created";
      return false;
    }
    if (!put(r, it->second)) return false;
  }
  // Epolls this process owns: created empty and put at their numbers first,
  // then given their registrations, which name fd numbers of this process
  // (another epoll's among them). Its children inherit them parked.
  std::vector<const FdRecord*> created;
  for (const FdRecord& r : img.fds) {
    if (r.kind != FdKind::kEpoll) continue;
    Key key = key_of(i, r);
    if (parked_.count(key)) continue;
    int fd = create_epoll(err);
    if (fd < 0 || !park(key, fd, err)) return false;
    created.push_back(&r);
  }
  for (const FdRecord& r : img.fds)  // every fd on an epoll, owned or inherited
    if (r.kind == FdKind::kEpoll && !put(r, parked_[key_of(i, r)])) return false;
  for (const FdRecord* r : created)
    if (!register_epoll(*r, r->fd, err)) return false;
  return true;
}

// The image's slave of a pty inside the computation that was the process's
// controlling terminal, with its state; null if none.
const FdRecord* FdRestorer::controlling_pty(size_t i, PtyState* st) const {
  for (const FdRecord& r : images_[i].fds)
    if (r.kind == FdKind::kPtySlave && !ptys_.slave_is_outside(r) && decode_pty(r, st) &&
        st->is_ctty)
      return &r;
  return nullptr;
}

void FdRestorer::take_terminal(size_t i) {
  PtyState st;
  if (const FdRecord* r = controlling_pty(i, &st)) ioctl(r->fd, TIOCSCTTY, 0);
}

void FdRestorer::set_foreground(size_t i, const std::function<int32_t(int32_t)>& to_real) {
  PtyState st;
  const FdRecord* r = controlling_pty(i, &st);
  if (!r || st.pgrp <= 0) return;
  pid_t pgrp = to_real(st.pgrp);
  ioctl(r->fd, TIOCSPGRP, &pgrp);
}

void FdRestorer::finish(size_t i) {
  std::set<int> keep = kept_;
  for (const FdRecord& r : images_[i].fds) keep.insert(r.fd);
  for (int fd : open_fds())
    if (!keep.count(fd)) close(fd);
}

}  // namespace ckpt
