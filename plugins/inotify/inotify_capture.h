// inotify instances, checkpoint side: every watch of an instance (from
// /proc/self/fdinfo) with the path of the watched inode, resolved from its
// file handle. Malloc-free. Encoding of FdRecord::extra (kind kInotify):
//   n u32, then n x {wd i32, mask u32, path str}
// mask is the watch's event mask with IN_ONESHOT/IN_EXCL_UNLINK as set, plus
// IN_DONT_FOLLOW when the watched inode is a symbolic link.
#pragma once

#include <string_view>

#include "ckpt/byte_codec.h"
#include "runtime/core/fixed_string.h"

namespace ckpt {

bool is_inotify(std::string_view target);
// Appends the watches of inotify descriptor `fd`; false (with err naming the
// fd and the watch) if a watched inode cannot be found again by path.
bool capture_inotify(int fd, ByteWriter& out, MessageString& err);

}  // namespace ckpt
