// fork() after a restart that could not keep every pid: a child whose real
// pid is another process's virtual pid could not be told apart from it. The
// child exits at once (runtime.cc, on_fork_child) and the parent reaps it
// and forks again. Without such a restart the pid table is empty and this
// is one branch.
#include <sys/syscall.h>
#include <unistd.h>

#include "ckpt/sys.h"
#include "real_functions.h"
#include "runtime/core/runtime.h"

CKPT_WRAPPER pid_t fork() {
  for (int tries = 0;; tries++) {
    pid_t pid = ckpt::real().fork();
    if (pid <= 0 || tries == 64 || !ckpt::fork_pid_clashes(ckpt::runtime(), pid)) return pid;
    int status = 0;
    ckpt::sys::call4(SYS_wait4, pid, reinterpret_cast<long>(&status), 0, 0);
  }
}
