// /proc/self/exe names the application's program, not ckpt_restart, after a
// restart; other /proc/<vpid> links are read under the real pid.
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "proc_path.h"
#include "real_functions.h"
#include "runtime/core/runtime.h"

using ckpt::runtime;

namespace {

bool names_own_exe(const char* path) {
  const ckpt::Runtime& rt = runtime();
  if (!rt.ready || rt.restart_count == 0 || !path) return false;
  if (strcmp(path, "/proc/self/exe") == 0) return true;
  char mine[32];
  int n = 0;
  char digits[12];
  int v = rt.vpid, d = 0;
  do digits[d++] = static_cast<char>('0' + v % 10), v /= 10;
  while (v);
  const char* prefix = "/proc/";
  while (*prefix) mine[n++] = *prefix++;
  while (d) mine[n++] = digits[--d];
  const char* suffix = "/exe";
  while (*suffix) mine[n++] = *suffix++;
  mine[n] = 0;
  return strcmp(path, mine) == 0;
}

ssize_t copy_exe(char* buf, size_t size) {
  const char* exe = runtime().exe;
  size_t n = strlen(exe);
  if (n > size) n = size;
  memcpy(buf, exe, n);
  return static_cast<ssize_t>(n);
}

}  // namespace

CKPT_WRAPPER ssize_t readlink(const char* path, char* buf, size_t size) {
  if (names_own_exe(path)) return copy_exe(buf, size);
  return ckpt::with_real_proc_path(
      path, [&](const char* p) { return ckpt::real().readlink(p, buf, size); });
}

CKPT_WRAPPER ssize_t readlinkat(int dirfd, const char* path, char* buf, size_t size) {
  if (path && path[0] == '/' && names_own_exe(path)) return copy_exe(buf, size);
  return ckpt::with_real_proc_path(
      path, [&](const char* p) { return ckpt::real().readlinkat(dirfd, p, buf, size); });
}
