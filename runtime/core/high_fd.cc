// Moving the runtime's descriptors to high numbers (see high_fd.h).
#include "high_fd.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <cstdint>

#include "ckpt/sys.h"

namespace ckpt {

int move_fd_high(int fd, long at) {
  uint64_t lim[2] = {1024, 1024};
  sys::call4(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, reinterpret_cast<long>(lim));
  long target = static_cast<long>(lim[0]) > at + 16 ? at : static_cast<long>(lim[0]) - 16;
  if (target <= fd) return fd;
  long high = sys::fcntl(fd, F_DUPFD_CLOEXEC, target);
  if (high < 0) return fd;
  sys::close(fd);
  return static_cast<int>(high);
}

}  // namespace ckpt
