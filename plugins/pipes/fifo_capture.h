// Named FIFOs (a pipe with a path), checkpoint side. Malloc-free. Encoding
// of FdRecord::extra (kind kFifo):
//   ino u64, deleted u8, pipe_size u32 (F_GETPIPE_SZ), len u32, len bytes
// The bytes are those in flight in the FIFO, copied without consuming them.
#pragma once

#include <sys/stat.h>

#include <string_view>

#include "ckpt/byte_codec.h"
#include "runtime/core/fixed_string.h"

namespace ckpt {

// A FIFO with a path (anonymous pipes link to "pipe:[ino]").
bool is_named_fifo(const struct stat& st, std::string_view target);
// Appends the state of FIFO descriptor `fd` (target: its /proc/self/fd
// link); false with err if its in-flight bytes cannot be copied whole.
bool capture_fifo(int fd, const struct stat& st, uint32_t open_flags, std::string_view target,
                  ByteWriter& out, MessageString& err);

}  // namespace ckpt
