// Reading /proc files and links with raw syscalls into malloc-free buffers.
#pragma once

#include <string_view>

#include "ckpt/byte_codec.h"
#include "fixed_string.h"

namespace ckpt {

// Append the whole file to out. Returns false (and leaves out partial) on error.
bool read_whole_file(const char* path, ByteWriter& out);
// readlink into out; returns false on error.
bool read_link(const char* path, PathString& out);
// Text of a system error number, without libc (strerror may take locks).
const char* errno_name(long err);

}  // namespace ckpt
