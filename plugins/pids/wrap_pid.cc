// Pid virtualization: the application keeps seeing the pids of its first
// launch, whatever real pids a restart gives it and the other processes of
// the computation (see virtual_pids.h). Process groups: wrap_pgrp.cc; waits:
// wrap_wait.cc; /proc/<pid> paths: wrap_proc_paths.cc.
#include <signal.h>
#include <unistd.h>

#include "runtime/core/runtime.h"
#include "runtime/shim/real_functions.h"
#include "virtual_pids.h"

using ckpt::real;
using ckpt::real_pid_arg;
using ckpt::runtime;

CKPT_WRAPPER pid_t getpid() {
  const ckpt::Runtime& rt = runtime();
  return rt.ready ? rt.vpid : real().getpid();
}

CKPT_WRAPPER pid_t getppid() {
  const ckpt::Runtime& rt = runtime();
  pid_t parent = real().getppid();
  if (rt.ready && parent == rt.real_ppid) return rt.vppid;
  return ckpt::virtual_pid_result(parent);  // reparented, or restored under another pid
}

CKPT_WRAPPER int kill(pid_t pid, int sig) { return real().kill(real_pid_arg(pid), sig); }

CKPT_WRAPPER int killpg(pid_t pgrp, int sig) { return real().killpg(real_pid_arg(pgrp), sig); }

CKPT_WRAPPER int sigqueue(pid_t pid, int sig, const sigval value) {
  return real().sigqueue(real_pid_arg(pid), sig, value);
}

// <sys/pidfd.h> of glibc 2.36 declares it with C++ linkage: not included.
CKPT_WRAPPER int pidfd_open(pid_t pid, unsigned int flags) {
  return real().pidfd_open(real_pid_arg(pid), flags);
}
