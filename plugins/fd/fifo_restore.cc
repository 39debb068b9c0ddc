// Named FIFOs, restart side (see fifo_restore.h).
#include "fifo_restore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "ckpt/byte_codec.h"
#include "host_local_path.h"

namespace ckpt {
namespace {

std::string failure(const image::FdRecord& r, const std::string& what) {
  return "cannot reopen FIFO fd " + std::to_string(r.fd) + " (" + std::string(r.path) +
         "): " + what + ": " + std::strerror(errno);
}

int open_rw(const std::string& path) { return open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC); }

}  // namespace

bool decode_fifo(const image::FdRecord& r, FifoState* out) {
  if (r.kind != image::FdKind::kFifo || r.extra.empty()) return false;
  ByteReader in(r.extra.data(), r.extra.size());
  out->ino = in.u64();
  out->deleted = in.u8();
  out->pipe_size = in.u32();
  uint32_t len = in.u32();
  const uint8_t* bytes = in.bytes(len);
  out->data = std::string_view(reinterpret_cast<const char*>(bytes), bytes ? len : 0);
  return in.ok() && in.remaining() == 0;
}

bool FifoTable::open_anchor(const image::FdRecord& r, const FifoState& s, Fifo& f,
                            std::string* err) {
  std::string path(r.path);
  mode_t mode = r.mode & 07777;
  if (s.deleted) {
    // A fresh FIFO that no path names once it is open.
    path += ".ckpt-restart-" + std::to_string(getpid());
    if (mkfifo(path.c_str(), mode) != 0) {
      *err = failure(r, "mkfifo " + path);
      return false;
    }
    f.anchor = open_rw(path);
    unlink(path.c_str());
  } else {
    f.anchor = open_rw(path);
    if (f.anchor < 0 && errno == ENOENT) {
      bool host_local = is_host_local_path(path);
      if (host_local) make_parent_dirs(path);
      if (mkfifo(path.c_str(), mode) != 0) {
        *err = failure(r, "mkfifo");
        return false;
      }
      if (!host_local)
        std::fprintf(stderr, "ckpt_restart: warning: FIFO %s was missing; created it again\n",
                     path.c_str());
      f.anchor = open_rw(path);
    }
  }
  struct stat st;
  if (f.anchor >= 0 && (fstat(f.anchor, &st) != 0 || !S_ISFIFO(st.st_mode))) {
    close(f.anchor);
    f.anchor = -1;
    errno = ENOTSUP;
    *err = failure(r, "the path is no FIFO any more");
    return false;
  }
  if (f.anchor < 0) {
    *err = failure(r, "open");
    return false;
  }
  if (s.pipe_size > static_cast<uint32_t>(fcntl(f.anchor, F_GETPIPE_SZ)))
    fcntl(f.anchor, F_SETPIPE_SZ, s.pipe_size);
  return true;
}

int FifoTable::open_for(const image::FdRecord& r, std::string* err) {
  FifoState s;
  if (!decode_fifo(r, &s)) {
    errno = EINVAL;
    *err = failure(r, "no FIFO state in the record");
    return -1;
  }
  Fifo& f = fifos_[{r.dev, s.ino}];
  if (f.anchor < 0 && !open_anchor(r, s, f, err)) return -1;
  // The bytes in flight, once: every process sharing the FIFO saved them.
  if (!f.filled && !s.data.empty()) {
    ssize_t put = write(f.anchor, s.data.data(), s.data.size());
    if (put != static_cast<ssize_t>(s.data.size())) {
      *err = failure(r, "putting back " + std::to_string(s.data.size()) + " bytes");
      return -1;
    }
    f.filled = true;
  }
  std::string anchor_path = "/proc/self/fd/" + std::to_string(f.anchor);
  int fd = open(anchor_path.c_str(), (r.open_flags & O_ACCMODE) | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    *err = failure(r, "open");
    return -1;
  }
  fcntl(fd, F_SETFL, r.open_flags & (O_NONBLOCK | O_APPEND | O_ASYNC));
  return fd;
}

void FifoTable::release() {
  for (auto& [key, f] : fifos_)
    if (f.anchor >= 0) close(f.anchor), f.anchor = -1;
}

}  // namespace ckpt
