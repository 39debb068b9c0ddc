// A raw descriptor closed on scope exit, for the malloc-free checkpoint side
// (no libc: the close is a raw system call).
#pragma once

#include "ckpt/sys.h"

namespace ckpt {

struct RawFd {
  long fd = -1;
  ~RawFd() {
    if (fd >= 0) sys::close(static_cast<int>(fd));
  }
};

}  // namespace ckpt
