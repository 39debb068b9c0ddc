// Event descriptors and inside pipes, restart side (see fd_kinds_restore.h;
// the encodings are in fd_kinds_capture.cc).
#include "event_fd_restore.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ckpt/byte_codec.h"
#include "plugins/fd/fd_restore.h"
#include "plugins/fd/fd_restore_ops.h"

namespace ckpt {

using image::FdKind;

namespace {

std::string failure(const image::FdRecord& r, const char* what) {
  return "cannot recreate fd " + std::to_string(r.fd) + " (" + std::string(r.path) + "): " + what +
         ": " + std::strerror(errno);
}

int nonblock(const image::FdRecord& r) { return (r.open_flags & O_NONBLOCK) ? O_NONBLOCK : 0; }

int make_eventfd(const image::FdRecord& r, ByteReader& in) {
  uint64_t count = in.u64();
  bool semaphore = in.u8();
  int fd = eventfd(0, EFD_CLOEXEC | nonblock(r) | (semaphore ? EFD_SEMAPHORE : 0));
  if (fd >= 0 && count && write(fd, &count, sizeof(count)) != sizeof(count)) {
    close(fd);
    return -1;
  }
  return fd;
}

int make_timerfd(const image::FdRecord& r, ByteReader& in) {
  auto clock = static_cast<clockid_t>(in.u32());
  in.u32();  // settime flags: the remaining time is relative now
  uint64_t ticks = in.u64();
  itimerspec spec = {};
  spec.it_value.tv_sec = static_cast<time_t>(in.u64());
  spec.it_value.tv_nsec = static_cast<long>(in.u64());
  spec.it_interval.tv_sec = static_cast<time_t>(in.u64());
  spec.it_interval.tv_nsec = static_cast<long>(in.u64());
  // Expirations not yet read come back as one expiration, right away.
  if (ticks) spec.it_value = {0, 1};
  int fd = timerfd_create(clock, TFD_CLOEXEC | nonblock(r));
  if (fd >= 0 && (spec.it_value.tv_sec || spec.it_value.tv_nsec) &&
      timerfd_settime(fd, 0, &spec, nullptr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int make_signalfd(const image::FdRecord& r, ByteReader& in) {
  uint64_t mask = in.u64();
  sigset_t set;
  sigemptyset(&set);
  for (int s = 1; s <= 64; s++)
    if (mask & (1ull << (s - 1))) sigaddset(&set, s);
  return signalfd(-1, &set, SFD_CLOEXEC | nonblock(r));
}

}  // namespace

int create_event_fd(const image::FdRecord& r, std::string* err) {
  ByteReader in(r.extra.data(), r.extra.size());
  int fd = -1;
  if (r.kind == FdKind::kEventfd) fd = make_eventfd(r, in);
  if (r.kind == FdKind::kTimerfd) fd = make_timerfd(r, in);
  if (r.kind == FdKind::kSignalfd) fd = make_signalfd(r, in);
  if (fd < 0 || !in.ok()) *err = failure(r, "event descriptor");
  return in.ok() ? fd : -1;
}

int create_epoll(std::string* err) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) *err = std::string("cannot create an epoll instance: ") + std::strerror(errno);
  return ep;
}

bool register_epoll(const image::FdRecord& r, int ep, std::string* err) {
  ByteReader in(r.extra.data(), r.extra.size());
  uint32_t n = in.u32();
  for (uint32_t i = 0; i < n && in.ok(); i++) {
    int target = static_cast<int>(in.u32());
    epoll_event ev = {};
    ev.events = in.u32();
    ev.data.u64 = in.u64();
    if (epoll_ctl(ep, EPOLL_CTL_ADD, target, &ev) != 0) {
      *err = failure(r, ("registering fd " + std::to_string(target)).c_str());
      return false;
    }
  }
  return true;
}

// The event descriptors' restore table (plugins/fd/fd_restore_ops.h); epolls
// are made by FdRestorer::place, once their process's fds are in place.
namespace {

int create_event_fd_for(FdRestoreContext&, const image::FdRecord& r, std::string* err) {
  return create_event_fd(r, err);
}

constexpr image::FdKind kEventFdKinds[] = {image::FdKind::kEventfd, image::FdKind::kTimerfd,
                                           image::FdKind::kSignalfd};

}  // namespace

extern const FdRestoreOps kEventFdRestoreOps{"event fds", kEventFdKinds, create_event_fd_for};

}  // namespace ckpt
