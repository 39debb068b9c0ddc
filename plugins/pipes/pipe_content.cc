// tee_pipe_content (see pipe_content.h).
#include "pipe_content.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "ckpt/sys.h"
#include "common/scoped_fd.h"
#include "runtime/core/fixed_string.h"

namespace ckpt {
namespace {}  // namespace

bool tee_pipe_content(int fd, bool is_read_end, ByteWriter& out) {
  size_t len_at = out.reserve(4);
  ScopedFd reader;
  int from = fd;
  if (!is_read_end) {
    FixedString<64> link;
    link.append("/proc/self/fd/").append_int(fd);
    reader = ScopedFd(sys::open(link.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!reader) return false;
    from = reader.get();
  }
  int pending = 0;
  if (sys::call3(SYS_ioctl, from, FIONREAD, reinterpret_cast<long>(&pending)) < 0) return false;
  if (pending <= 0) return true;
  int ends[2];
  if (sys::call2(SYS_pipe2, reinterpret_cast<long>(ends), O_CLOEXEC | O_NONBLOCK) < 0) return false;
  ScopedFd tmp_read{ends[0]}, tmp_write{ends[1]};
  // tee duplicates buffers, not bytes: the copy needs as many slots.
  long size = sys::fcntl(from, F_GETPIPE_SZ);
  if (size > 0) sys::fcntl(ends[1], F_SETPIPE_SZ, size);
  long copied = sys::call4(SYS_tee, from, ends[1], pending, SPLICE_F_NONBLOCK);
  if (copied <= 0) return false;
  size_t at = out.reserve(static_cast<size_t>(copied));
  if (out.overflow()) return false;
  long got = 0;
  while (got < copied) {
    long n = sys::read(ends[0], out.mutable_data() + at + got, static_cast<size_t>(copied - got));
    if (n <= 0) break;
    got += n;
  }
  out.truncate(at + static_cast<size_t>(got));
  out.patch_u32(len_at, static_cast<uint32_t>(got));
  return got == pending;
}

}  // namespace ckpt
