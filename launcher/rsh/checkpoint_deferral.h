// ckpt_rsh's halves defer checkpoints while a process outside the
// computation (the remote shell) is their child or holds their stdio:
// libckpt.so's ckpt_defer_checkpoints(), when it is loaded (under ckpt).
#pragma once

#include <dlfcn.h>

namespace ckpt::rsh {

inline void defer_checkpoints(bool on) {
  using Fn = int (*)(int);
  static auto fn = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "ckpt_defer_checkpoints"));
  if (fn) fn(on ? 1 : 0);
}

}  // namespace ckpt::rsh
