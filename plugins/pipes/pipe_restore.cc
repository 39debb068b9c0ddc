// Pipes at restart (see pipe_restore.h).
#include "pipe_restore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ckpt/byte_codec.h"
#include "plugins/fd/fd_restore.h"
#include "plugins/fd/fd_restore_ops.h"

namespace ckpt {

bool decode_pipe_end(const image::FdRecord& r, PipeEnd* out) {
  ByteReader in(r.extra.data(), r.extra.size());
  out->ino = in.u64();
  out->read_end = in.u8();
  uint32_t len = in.u32();
  const uint8_t* bytes = in.bytes(len);
  out->data = std::string_view(reinterpret_cast<const char*>(bytes), bytes ? len : 0);
  out->far_end_closed = in.remaining() > 0 && in.u8();  // absent in older images
  return in.ok();
}

void PipeTable::note(const PipeEnd& end) {
  Pipe& p = pipes_[end.ino];
  (end.read_end ? p.has_read : p.has_write) = true;
  p.far_end_closed |= end.far_end_closed;
  if (p.data.empty() && !end.data.empty()) p.data = std::string(end.data);
}

int PipeTable::open_end(const image::FdRecord& r, const PipeEnd& end, std::string* err) {
  Pipe& p = pipes_[end.ino];
  bool outside = !(p.has_read && p.has_write) && !p.far_end_closed;
  if (outside) {
    struct stat st;
    if (fstat(r.fd, &st) == 0 && S_ISFIFO(st.st_mode)) return fcntl(r.fd, F_DUPFD_CLOEXEC, 0);
    if (!end.read_end) return open("/dev/null", O_WRONLY | O_CLOEXEC);
  }
  if (p.read < 0) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      *err = "cannot recreate pipe of fd " + std::to_string(r.fd) + ": " + std::strerror(errno);
      return -1;
    }
    p.read = fds[0];
    p.write = fds[1];
    if (p.data.size() > 65536) fcntl(p.write, F_SETPIPE_SZ, static_cast<int>(p.data.size()));
  }
  int fd = fcntl(end.read_end ? p.read : p.write, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    *err = "cannot recreate pipe of fd " + std::to_string(r.fd) + ": " + std::strerror(errno);
    return -1;
  }
  // O_NONBLOCK belongs to the description: each end has its own.
  fcntl(fd, F_SETFL, r.open_flags & O_NONBLOCK);
  return fd;
}

bool PipeTable::finish(std::string* err) {
  for (auto& [ino, p] : pipes_) {
    if (p.write >= 0 && !p.data.empty()) {
      int flags = fcntl(p.write, F_GETFL);
      fcntl(p.write, F_SETFL, flags | O_NONBLOCK);
      ssize_t put = write(p.write, p.data.data(), p.data.size());
      fcntl(p.write, F_SETFL, flags);
      if (put != static_cast<ssize_t>(p.data.size())) {
        *err = "cannot refill pipe " + std::to_string(ino) + " with its " +
               std::to_string(p.data.size()) + " saved bytes: " +
               (put < 0 ? std::strerror(errno) : "only " + std::to_string(put) + " fit");
        return false;
      }
    }
    if (p.read >= 0) close(p.read);
    if (p.write >= 0) close(p.write);
    p.read = p.write = -1;
  }
  return true;
}

// The pipes family's restore table (plugins/fd/fd_restore_ops.h).
namespace {

int create_pipe_end(FdRestoreContext& c, const image::FdRecord& r, std::string* err) {
  PipeEnd end;
  if (!decode_pipe_end(r, &end)) return c.adopt_terminal(r);  // an old image's outside pipe
  return c.tables.pipes.open_end(r, end, err);
}

constexpr image::FdKind kPipeKinds[] = {image::FdKind::kPipe, image::FdKind::kPipeInside};

}  // namespace

extern const FdRestoreOps kPipeRestoreOps{"pipes", kPipeKinds, create_pipe_end};

}  // namespace ckpt
