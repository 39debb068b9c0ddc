// Pid virtualization: the application keeps seeing the pids of its first
// launch, whatever real pids a restart gives it.
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "../core/runtime.h"
#include "real_functions.h"

using ckpt::real;
using ckpt::runtime;

namespace {

pid_t to_real(pid_t pid) {
  const ckpt::Runtime& rt = runtime();
  if (!rt.ready) return pid;
  if (pid == rt.vpid) return rt.real_pid;
  if (pid == -rt.vpid) return -rt.real_pid;
  return pid;
}

}  // namespace

CKPT_WRAPPER pid_t getpid() {
  const ckpt::Runtime& rt = runtime();
  return rt.ready ? rt.vpid : real().getpid();
}

CKPT_WRAPPER pid_t getppid() {
  const ckpt::Runtime& rt = runtime();
  pid_t parent = real().getppid();
  return rt.ready && parent == rt.real_ppid ? rt.vppid : parent;
}

CKPT_WRAPPER int kill(pid_t pid, int sig) { return real().kill(to_real(pid), sig); }
