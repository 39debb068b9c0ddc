// Process groups and sessions in virtual pids: a group or session is named
// by its leader's pid, so ids go to the kernel real and come back virtual.
#include <unistd.h>

#include "runtime/shim/real_functions.h"
#include "virtual_pids.h"

using ckpt::real;
using ckpt::real_pid_arg;
using ckpt::virtual_pid_result;

CKPT_WRAPPER pid_t getpgid(pid_t pid) {
  return virtual_pid_result(real().getpgid(real_pid_arg(pid)));
}

CKPT_WRAPPER pid_t getpgrp() { return virtual_pid_result(real().getpgrp()); }

CKPT_WRAPPER pid_t getsid(pid_t pid) {
  return virtual_pid_result(real().getsid(real_pid_arg(pid)));
}

CKPT_WRAPPER pid_t setsid() { return virtual_pid_result(real().setsid()); }

CKPT_WRAPPER int setpgid(pid_t pid, pid_t pgid) {
  return real().setpgid(real_pid_arg(pid), real_pid_arg(pgid));
}

CKPT_WRAPPER pid_t tcgetpgrp(int fd) { return virtual_pid_result(real().tcgetpgrp(fd)); }

CKPT_WRAPPER int tcsetpgrp(int fd, pid_t pgrp) { return real().tcsetpgrp(fd, real_pid_arg(pgrp)); }
