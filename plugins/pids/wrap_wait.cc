// Waits for children in virtual pids: the pid or -pgid waited for goes to
// the kernel real, the pid of the child reaped (and a waitid siginfo's
// si_pid) comes back virtual.
//
// A wait blocked at a checkpoint is restarted by the kernel (the suspend
// handler is SA_RESTART) with the real pid it was given before; after a
// restart that child may run under another real pid and the kernel answers
// ECHILD. Then the wait is made again, translated afresh.
#include <errno.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "runtime/core/runtime.h"
#include "runtime/shim/real_functions.h"
#include "virtual_pids.h"

using ckpt::real;
using ckpt::runtime;

namespace {

// Makes `call` with the real form of `pid`, again if a restart came between
// the translation and the kernel's ECHILD.
template <typename Call>
pid_t wait_for(pid_t pid, Call call) {
  for (;;) {
    uint32_t restarts = runtime().restart_count;
    pid_t r = call(ckpt::real_pid_arg(pid));
    if (r < 0 && errno == ECHILD && runtime().restart_count != restarts) continue;
    return ckpt::virtual_pid_result(r);
  }
}

}  // namespace

CKPT_WRAPPER pid_t waitpid(pid_t pid, int* status, int options) {
  return wait_for(pid, [&](pid_t p) { return real().waitpid(p, status, options); });
}

CKPT_WRAPPER pid_t wait4(pid_t pid, int* status, int options, rusage* usage) {
  return wait_for(pid, [&](pid_t p) { return real().wait4(p, status, options, usage); });
}

CKPT_WRAPPER pid_t wait3(int* status, int options, rusage* usage) {
  return ckpt::virtual_pid_result(real().wait3(status, options, usage));
}

CKPT_WRAPPER pid_t wait(int* status) { return ckpt::virtual_pid_result(real().wait(status)); }

CKPT_WRAPPER int waitid(idtype_t type, id_t id, siginfo_t* info, int options) {
  for (;;) {
    uint32_t restarts = runtime().restart_count;
    const ckpt::PidTable& pids = runtime().pids;
    id_t real_id = pids.empty() ? id : ckpt::waitid_id_to_real(type, id, pids);
    int r = real().waitid(type, real_id, info, options);
    if (r < 0 && errno == ECHILD && runtime().restart_count != restarts) continue;
    if (r == 0) ckpt::siginfo_pid_to_virtual(info);
    return r;
  }
}
