// Named FIFOs, checkpoint side (see fifo_capture.h).
#include "fifo_capture.h"

#include <fcntl.h>

#include "ckpt/sys.h"
#include "pipe_content.h"
#include "plugins/fd/fd_capture_ops.h"

namespace ckpt {

bool is_named_fifo(const struct stat& st, std::string_view target) {
  return S_ISFIFO(st.st_mode) && !target.starts_with("pipe:");
}

bool capture_fifo(int fd, const struct stat& st, uint32_t open_flags, std::string_view target,
                  ByteWriter& out, MessageString& err) {
  out.put_u64(st.st_ino);
  out.put_u8(st.st_nlink == 0 || target.ends_with(" (deleted)"));
  long size = sys::fcntl(fd, F_GETPIPE_SZ);
  out.put_u32(size > 0 ? static_cast<uint32_t>(size) : 0);
  if (tee_pipe_content(fd, (open_flags & O_ACCMODE) != O_WRONLY, out)) return true;
  err.append("fd ").append_int(fd).append(" (FIFO ").append(target);
  err.append("): cannot copy the bytes in flight");
  return false;
}

// The FIFOs' capture table (see plugins/fd/fd_capture_ops.h).
namespace {

image::FdKind classify_fifo(const struct stat& st, std::string_view target) {
  return is_named_fifo(st, target) ? image::FdKind::kFifo : image::FdKind::kOther;
}

bool capture_fifo_fd(const FdFacts& f, const AddressMap*, ByteWriter& extra, MessageString& err) {
  return capture_fifo(f.fd, f.st, f.flags, f.target.view(), extra, err);
}

}  // namespace

extern const FdCaptureOps kFifoCaptureOps{
    .family = "fifos", .classify = classify_fifo, .capture = capture_fifo_fd};

}  // namespace ckpt
