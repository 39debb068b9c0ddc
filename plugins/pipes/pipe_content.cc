// tee_pipe_content (see pipe_content.h).
#include "pipe_content.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "ckpt/sys.h"
#include "common/scoped_fd.h"
#include "plugins/fd/fd_capture_ops.h"
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

// The pipes family's capture table (see plugins/fd/fd_capture_ops.h).
namespace {

image::FdKind classify_pipe(const struct stat& st, std::string_view) {
  return S_ISFIFO(st.st_mode) ? image::FdKind::kPipe : image::FdKind::kOther;
}

bool same_pipe(const FdFacts& a, const FdFacts& b) {
  return S_ISFIFO(a.st.st_mode) && S_ISFIFO(b.st.st_mode) && a.st.st_ino == b.st.st_ino &&
         a.st.st_dev == b.st.st_dev;
}

bool is_read_end(const FdFacts& f) { return (f.flags & O_ACCMODE) == O_RDONLY; }

// A pipe is inside the process when both of its ends are.
bool pipe_inside(const FdFacts* facts, int n, int i) {
  if (!facts[i].target.view().starts_with("pipe:")) return false;
  for (int j = 0; j < n; j++)
    if (same_pipe(facts[i], facts[j]) && is_read_end(facts[i]) != is_read_end(facts[j]))
      return true;
  return false;
}

void mark_pipes_inside(FdFacts* facts, int n) {
  for (int i = 0; i < n; i++)
    if (facts[i].kind == image::FdKind::kPipe && pipe_inside(facts, n, i))
      facts[i].kind = image::FdKind::kPipeInside;
}

// A pipe end: its inode, which end, and (read ends) the bytes in flight,
// copied with tee(2) so that nothing is consumed: several processes may
// hold the read end and capture at once.
bool capture_pipe(const FdFacts& f, const AddressMap*, ByteWriter& extra, MessageString&) {
  if (!f.target.view().starts_with("pipe:")) return true;
  extra.put_u64(f.st.st_ino);
  extra.put_u8(is_read_end(f));
  tee_pipe_content(f.fd, is_read_end(f), extra);
  return true;
}

}  // namespace

extern const FdCaptureOps kPipeCaptureOps{.family = "pipes",
                                          .classify = classify_pipe,
                                          .capture = capture_pipe,
                                          .refine = mark_pipes_inside,
                                          .every_fd = true};

}  // namespace ckpt
