// /proc readers and errno texts (see proc_files.h).
#include "proc_files.h"

#include <errno.h>
#include <fcntl.h>

#include "ckpt/sys.h"

namespace ckpt {

bool read_whole_file(const char* path, ByteWriter& out) {
  long fd = sys::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[16384];
  bool ok = true;
  for (;;) {
    long n = sys::read(static_cast<int>(fd), buf, sizeof(buf));
    if (n == -EINTR) continue;
    if (n < 0) ok = false;
    if (n <= 0) break;
    out.put_bytes(buf, static_cast<size_t>(n));
  }
  sys::close(static_cast<int>(fd));
  return ok && !out.overflow();
}

namespace {

uint64_t field_bytes(std::string_view text, std::string_view name) {
  size_t at = text.find(name);
  if (at == std::string_view::npos) return 0;
  uint64_t v = 0;
  for (size_t i = at + name.size(); i < text.size() && text[i] != '\n'; i++)
    if (text[i] >= '0' && text[i] <= '9') v = v * 10 + static_cast<uint64_t>(text[i] - '0');
  return v * 1024;
}

}  // namespace

bool read_kb_fields(const char* path, std::string_view name, uint64_t* value) {
  ByteWriter text;
  if (!read_whole_file(path, text)) return false;
  std::string_view s(reinterpret_cast<const char*>(text.data()), text.size());
  *value = field_bytes(s, name);
  text.release();
  return true;
}

bool read_link(const char* path, PathString& out) {
  char buf[4096];
  long n = sys::readlink(path, buf, sizeof(buf) - 1);
  if (n < 0) return false;
  out.clear();
  out.append(std::string_view(buf, static_cast<size_t>(n)));
  return true;
}

const char* errno_name(long err) {
  switch (err) {
    case ENOSPC:
      return "No space left on device";
    case EDQUOT:
      return "Disk quota exceeded";
    case EROFS:
      return "Read-only file system";
    case EACCES:
      return "Permission denied";
    case EPERM:
      return "Operation not permitted";
    case ENOENT:
      return "No such file or directory";
    case ENOTDIR:
      return "Not a directory";
    case EIO:
      return "Input/output error";
    case ENOMEM:
      return "Cannot allocate memory";
    case EFBIG:
      return "File too large";
    case EMFILE:
      return "Too many open files";
    case EEXIST:
      return "File exists";
    case EINVAL:
      return "Invalid argument";
    case ECONNREFUSED:
      return "Connection refused";
    case ENAMETOOLONG:
      return "File name too long";
    default:
      return "system error";
  }
}

}  // namespace ckpt
