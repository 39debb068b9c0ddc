// Thread id virtualization: gettid(), tgkill() and the same calls made
// through syscall(2) answer in the ids of the first launch.
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../core/runtime.h"
#include "../core/thread_local_state.h"
#include "real_functions.h"

using ckpt::real;
using ckpt::runtime;

namespace {

pid_t real_pid_of(pid_t pid) {
  const ckpt::Runtime& rt = runtime();
  return rt.ready && pid == rt.vpid ? rt.real_pid : pid;
}

pid_t real_tid(pid_t tid) { return runtime().ready ? ckpt::real_tid_of(runtime(), tid) : tid; }

}  // namespace

CKPT_WRAPPER pid_t gettid() {
  ckpt::Runtime& rt = runtime();
  return rt.ready ? ckpt::current_vtid(rt) : static_cast<pid_t>(real().syscall(SYS_gettid));
}

CKPT_WRAPPER int tgkill(pid_t tgid, pid_t tid, int sig) {
  return real().tgkill(real_pid_of(tgid), real_tid(tid), sig);
}

CKPT_WRAPPER long syscall(long nr, ...) {
  va_list ap;
  va_start(ap, nr);
  long a[6];
  for (long& v : a) v = va_arg(ap, long);
  va_end(ap);
  switch (nr) {
    case SYS_gettid:
      return gettid();
    case SYS_getpid:
      return getpid();
    case SYS_getppid:
      return getppid();
    case SYS_tgkill:
      return tgkill(static_cast<pid_t>(a[0]), static_cast<pid_t>(a[1]), static_cast<int>(a[2]));
    case SYS_tkill:
      return real().syscall(nr, real_tid(static_cast<pid_t>(a[0])), a[1]);
    case SYS_kill:
      return kill(static_cast<pid_t>(a[0]), static_cast<int>(a[1]));
    default:
      return real().syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
  }
}
