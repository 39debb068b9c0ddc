// The wrappers' side of pid virtualization: each pid argument and result
// goes through the runtime's PidTable, and costs one predictable branch
// while the table is empty (always, but after a restart that could not give
// back every old pid).
#pragma once

#include <sys/types.h>

#include "pid_translate.h"
#include "runtime/core/runtime.h"

namespace ckpt {

// A pid, -pgid, 0 or -1 argument (kill, waitpid, ...).
inline pid_t real_pid_arg(pid_t pid) {
  const PidTable& pids = runtime().pids;
  return __builtin_expect(pids.empty(), 1) ? pid : pid_arg_to_real(pid, pids);
}

// A pid the kernel returned (> 0), or 0 / -1 unchanged.
inline pid_t virtual_pid_result(pid_t pid) {
  const PidTable& pids = runtime().pids;
  return __builtin_expect(pids.empty(), 1) ? pid : pid_result_to_virtual(pid, pids);
}

inline void siginfo_pid_to_virtual(siginfo_t* info) {
  const PidTable& pids = runtime().pids;
  if (!__builtin_expect(pids.empty(), 1)) siginfo_to_virtual(info, pids);
}

}  // namespace ckpt
