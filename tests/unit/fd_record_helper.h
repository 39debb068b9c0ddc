// Builds the FdRecord of a live descriptor the way the fd plugin's capture
// does (kind-specific extra supplied by the test), for the fd-kind tests.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "ckpt/byte_codec.h"
#include "ckpt/image_format.h"

namespace ckpt::test {

// Owns the strings an FdRecord points to.
struct LiveRecord {
  image::FdRecord r;
  std::string path, extra;

  LiveRecord(int fd, image::FdKind kind, const ByteWriter& w) {
    struct stat st;
    fstat(fd, &st);
    char buf[4096];
    ssize_t n = readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), buf, sizeof(buf));
    path.assign(buf, n > 0 ? static_cast<size_t>(n) : 0);
    extra.assign(reinterpret_cast<const char*>(w.data()), w.size());
    r.fd = fd;
    r.kind = kind;
    r.open_flags = static_cast<uint32_t>(fcntl(fd, F_GETFL)) & ~O_LARGEFILE;
    r.fd_flags = static_cast<uint32_t>(fcntl(fd, F_GETFD));
    r.mode = st.st_mode;
    r.dev = st.st_dev;
    r.ino = st.st_ino;
    r.path = path;
    r.extra = extra;
  }
};

}  // namespace ckpt::test
