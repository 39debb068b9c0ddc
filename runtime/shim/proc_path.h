// Calls that take a path make it with /proc/<vpid> turned into
// /proc/<real pid> when that process runs under another real pid
// (wrap_proc_paths.cc, wrap_proc.cc). /proc/self needs nothing.
#pragma once

#include <limits.h>

#include "plugins/pids/pid_translate.h"
#include "runtime/core/runtime.h"

namespace ckpt {

// The slow path, out of line so that the fast one keeps no buffer on the
// stack (wrappers may run on a small signal stack).
template <typename Call>
[[gnu::noinline]] auto call_with_real_proc_path(const char* path, Call call) {
  char buf[PATH_MAX];
  return call(translate_proc_path(path, buf, sizeof(buf), runtime().pids));
}

// `call(path)`, with the path translated if the pid table is not empty.
template <typename Call>
inline auto with_real_proc_path(const char* path, Call call) {
  if (__builtin_expect(runtime().pids.empty(), 1)) return call(path);
  return call_with_real_proc_path(path, call);
}

}  // namespace ckpt
