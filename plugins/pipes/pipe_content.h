// Copying the bytes in flight in a pipe or FIFO without consuming them
// (tee(2) into a temporary pipe). Checkpoint side, malloc-free.
#pragma once

#include "ckpt/byte_codec.h"

namespace ckpt {

// Appends `len u32` and then the `len` bytes queued in the pipe `fd` is an
// end of; the pipe is left as it was. A write end is read through a second
// read end opened on /proc/self/fd/<fd>. False (with `len` 0 or partial
// bytes appended) if the content could not be copied whole.
bool tee_pipe_content(int fd, bool is_read_end, ByteWriter& out);

}  // namespace ckpt
