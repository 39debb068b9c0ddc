// Reading /proc files and links with raw syscalls into malloc-free buffers.
#pragma once

#include <string_view>

#include "ckpt/byte_codec.h"
#include "ckpt/sys.h"
#include "fixed_string.h"

namespace ckpt {

// Append the whole file to out. Returns false (and leaves out partial) on error.
bool read_whole_file(const char* path, ByteWriter& out);
// The value of field `name` ("RssAnon:", in kB) of a /proc file such as
// /proc/self/status or /proc/meminfo, in bytes (0 when absent). False if
// the file cannot be read.
bool read_kb_fields(const char* path, std::string_view name, uint64_t* value);
// readlink into out; returns false on error.
bool read_link(const char* path, PathString& out);
// Calls f(number, dir_fd) for each entry of a directory (such as
// /proc/self/fd or /proc/self/task) whose name is a number. False if the
// directory cannot be opened.
template <typename F>
bool for_each_numbered_entry(const char* path, F&& f);

// Text of a system error number, without libc (strerror may take locks).
const char* errno_name(long err);

template <typename F>
bool for_each_numbered_entry(const char* path, F&& f) {
  long dir = sys::open(path, 0200000 /* O_DIRECTORY */ | 02000000 /* O_CLOEXEC */);
  if (dir < 0) return false;
  alignas(8) char buf[8192];
  for (;;) {
    long got = sys::getdents64(static_cast<int>(dir), buf, sizeof(buf));
    if (got <= 0) break;
    for (long off = 0; off < got;) {
      auto reclen = *reinterpret_cast<uint16_t*>(buf + off + 16);
      const char* name = buf + off + 19;  // struct linux_dirent64::d_name
      off += reclen;
      if (name[0] < '0' || name[0] > '9') continue;
      long number = 0;
      for (const char* p = name; *p >= '0' && *p <= '9'; p++) number = number * 10 + (*p - '0');
      f(number, static_cast<int>(dir));
    }
  }
  sys::close(static_cast<int>(dir));
  return true;
}

}  // namespace ckpt
