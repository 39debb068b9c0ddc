// WriteBehind (see write_behind.h).
#include "write_behind.h"

#include <fcntl.h>
#include <sys/syscall.h>

#include "ckpt/sys.h"

namespace ckpt::image {
namespace {

void sync_range(int fd, uint64_t from, uint64_t to, unsigned flags) {
  sys::call4(SYS_sync_file_range, fd, static_cast<long>(from), static_cast<long>(to - from), flags);
}

}  // namespace

void WriteBehind::wrote_up_to(uint64_t written) {
  if (written < started_ + kWriteBehindBytes) return;
  const uint64_t end = written & ~(kWriteBehindBytes - 1);
  sync_range(fd_, started_, end, SYNC_FILE_RANGE_WRITE);
  started_ = end;
  if (end >= waited_ + 3 * kWriteBehindBytes) {
    const uint64_t wait_to = end - 2 * kWriteBehindBytes;
    sync_range(fd_, waited_, wait_to,
               SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
    waited_ = wait_to;
  }
}

}  // namespace ckpt::image
