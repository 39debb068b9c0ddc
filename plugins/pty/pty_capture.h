// Pseudo-terminal ends inside the computation, checkpoint side: classifies
// /dev/ptmx and /dev/pts/N descriptors and writes their PtyState (see
// pty_state.h for the encoding) into FdRecord::extra. Malloc-free.
#pragma once

#include <sys/stat.h>

#include "ckpt/byte_codec.h"
#include "ckpt/image_format.h"

namespace ckpt {

// kPtyMaster, kPtySlave, or kOther for any other file.
image::FdKind pty_kind(const struct stat& st);
// Appends the PtyState of the pty end `fd` (kind from pty_kind). On a master
// the output waiting to be read is read out and written back through the
// slave (with OPOST off, so the master reads the same bytes again).
void capture_pty(image::FdKind kind, int fd, const struct stat& st, ByteWriter& out);

}  // namespace ckpt
