// ScopedFd: RAII owner of one file descriptor (closed on destruction; movable,
// not copyable). The one fd owner of every context but the restorer: it
// closes with a raw system call, so the malloc-free runtime uses it too. A
// negative value (-1, or a raw call's -errno) owns nothing.
#pragma once

#include "ckpt/sys.h"

namespace ckpt {

class ScopedFd {
 public:
  ScopedFd() = default;
  explicit ScopedFd(int fd) : fd_(fd) {}
  // From a raw system call's result (a descriptor or -errno).
  explicit ScopedFd(long ret) : fd_(ret < 0 ? -1 : static_cast<int>(ret)) {}
  ~ScopedFd() { reset(); }
  ScopedFd(ScopedFd&& other) noexcept : fd_(other.release()) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  // Gives up ownership without closing.
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) sys::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace ckpt
