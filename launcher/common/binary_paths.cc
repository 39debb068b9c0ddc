// Locating sibling programs and the runtime library (see binary_paths.h).
#include "binary_paths.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>

#ifndef CKPT_REL_LIBDIR
#define CKPT_REL_LIBDIR "../lib/ckpt"
#endif

namespace ckpt {
namespace {

// realpath() of `path` if it exists and `mode` access is allowed, else "".
std::string usable(const std::string& path, int mode) {
  if (::access(path.c_str(), mode) != 0) return "";
  char buf[PATH_MAX];
  if (!::realpath(path.c_str(), buf)) return "";
  return buf;
}

}  // namespace

std::string self_dir() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  std::string exe(buf, static_cast<size_t>(n));
  size_t slash = exe.rfind('/');
  return slash == std::string::npos ? "" : exe.substr(0, slash == 0 ? 1 : slash);
}

std::string find_tool(const std::string& name) {
  std::string dir = self_dir();
  if (dir.empty()) return "";
  for (const char* sub : {"", "/../coordinator", "/../launcher"}) {
    std::string path = usable(dir + sub + "/" + name, X_OK);
    if (!path.empty()) return path;
  }
  return "";
}

std::string find_runtime_library() {
  if (const char* env = std::getenv("CKPT_LIBCKPT"); env && *env) return usable(env, R_OK);
  std::string dir = self_dir();
  if (dir.empty()) return "";
  for (std::string path :
       {dir + "/../runtime/libckpt.so", dir + "/" CKPT_REL_LIBDIR "/libckpt.so"}) {
    std::string found = usable(path, R_OK);
    if (!found.empty()) return found;
  }
  return "";
}

}  // namespace ckpt
