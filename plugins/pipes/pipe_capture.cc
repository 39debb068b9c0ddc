// The pipes family's capture table (plugins/fd/fd_capture_ops.h): a pipe
// end is an anonymous FIFO; both ends in the process make it a pipe inside;
// its bytes in flight are copied without being consumed (pipe_content.h).
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "ckpt/sys.h"
#include "pipe_content.h"
#include "plugins/fd/fd_capture_ops.h"

namespace ckpt {

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

// Whether every descriptor of the pipe's other end is closed: a read end
// with no writer left polls POLLHUP, a write end with no reader POLLERR.
// (A shell's `echo` that wrote into the pipe and exited before the
// checkpoint leaves its reader with bytes and then end of file.)
bool far_end_closed(const FdFacts& f) {
  pollfd p{f.fd, static_cast<short>(is_read_end(f) ? POLLIN : POLLOUT), 0};
  if (sys::call3(SYS_poll, reinterpret_cast<long>(&p), 1, 0) < 0) return false;
  return p.revents & (is_read_end(f) ? POLLHUP : POLLERR);
}

// A pipe end: its inode, which end, (read ends) the bytes in flight,
// copied with tee(2) so that nothing is consumed: several processes may
// hold the read end and capture at once; then whether the far end is
// closed everywhere.
bool capture_pipe(const FdFacts& f, const AddressMap*, ByteWriter& extra, MessageString&) {
  if (!f.target.view().starts_with("pipe:")) return true;
  extra.put_u64(f.st.st_ino);
  extra.put_u8(is_read_end(f));
  tee_pipe_content(f.fd, is_read_end(f), extra);
  extra.put_u8(far_end_closed(f));
  return true;
}

}  // namespace

extern const FdCaptureOps kPipeCaptureOps{.family = "pipes",
                                          .classify = classify_pipe,
                                          .capture = capture_pipe,
                                          .refine = mark_pipes_inside,
                                          .every_fd = true};

}  // namespace ckpt
