// File access shared by the image reader's parts: an owned read-only fd and
// pread that reads everything or says why not.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "scoped_fd.h"

namespace ckpt::image {

// The CLIs' owner of one file descriptor.
using ScopedFd = ckpt::ScopedFd;

// Opens path read-only; on failure sets *err to "cannot open: <reason>".
inline int open_image(const std::string& path, std::string* err) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) *err = std::string("cannot open: ") + std::strerror(errno);
  return fd;
}

// Reads exactly n bytes at off. A short read is "truncated", a failure is
// "read error: <reason>".
inline bool pread_exact(int fd, void* buf, size_t n, uint64_t off, std::string* err) {
  auto p = static_cast<uint8_t*>(buf);
  while (n > 0) {
    ssize_t r = ::pread(fd, p, n, static_cast<off_t>(off));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      *err = std::string("read error: ") + std::strerror(errno);
      return false;
    }
    if (r == 0) {
      *err = "truncated: unexpected end of file at offset " + std::to_string(off);
      return false;
    }
    p += r;
    n -= static_cast<size_t>(r);
    off += static_cast<uint64_t>(r);
  }
  return true;
}

}  // namespace ckpt::image
