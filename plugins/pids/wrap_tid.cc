// Thread id virtualization: gettid(), tgkill() and the same calls made
// through syscall(2) answer in the ids of the first launch. syscall(2) also
// routes the pid-taking calls it may carry to their wrappers.
#include <stdarg.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/core/runtime.h"
#include "runtime/core/thread_local_state.h"
#include "runtime/shim/real_functions.h"
#include "virtual_pids.h"

using ckpt::real;
using ckpt::runtime;

namespace {

pid_t real_tid(pid_t tid) { return runtime().ready ? ckpt::real_tid_of(runtime(), tid) : tid; }

}  // namespace

CKPT_WRAPPER pid_t gettid() {
  ckpt::Runtime& rt = runtime();
  return rt.ready ? ckpt::current_vtid(rt) : static_cast<pid_t>(real().syscall(SYS_gettid));
}

CKPT_WRAPPER int tgkill(pid_t tgid, pid_t tid, int sig) {
  return real().tgkill(ckpt::real_pid_arg(tgid), real_tid(tid), sig);
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
    case SYS_rt_sigqueueinfo:
      return real().syscall(nr, ckpt::real_pid_arg(static_cast<pid_t>(a[0])), a[1], a[2]);
    case SYS_rt_tgsigqueueinfo:
      return real().syscall(nr, ckpt::real_pid_arg(static_cast<pid_t>(a[0])),
                            real_tid(static_cast<pid_t>(a[1])), a[2], a[3]);
    case SYS_pidfd_open:
      return real().syscall(nr, ckpt::real_pid_arg(static_cast<pid_t>(a[0])), a[1]);
    case SYS_wait4:
      return wait4(static_cast<pid_t>(a[0]), reinterpret_cast<int*>(a[1]), static_cast<int>(a[2]),
                   reinterpret_cast<rusage*>(a[3]));
    case SYS_waitid:
      if (a[4]) break;  // with an rusage: glibc's waitid has none
      return waitid(static_cast<idtype_t>(a[0]), static_cast<id_t>(a[1]),
                    reinterpret_cast<siginfo_t*>(a[2]), static_cast<int>(a[3]));
    case SYS_getpgid:
      return getpgid(static_cast<pid_t>(a[0]));
    case SYS_setpgid:
      return setpgid(static_cast<pid_t>(a[0]), static_cast<pid_t>(a[1]));
    case SYS_getsid:
      return getsid(static_cast<pid_t>(a[0]));
    default:
      break;
  }
  return real().syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
