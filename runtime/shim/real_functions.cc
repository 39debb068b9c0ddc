// Resolution of the real libc functions behind the wrappers (see real_functions.h).
#include "real_functions.h"

#include <dlfcn.h>

namespace ckpt {
namespace {

RealFunctions g_real;
bool g_resolved = false;

template <typename T>
void next(T& slot, const char* name) {
  slot = reinterpret_cast<T>(dlsym(RTLD_NEXT, name));
}

}  // namespace

void resolve_real_functions() {
  if (g_resolved) return;
  next(g_real.getpid, "getpid");
  next(g_real.getppid, "getppid");
  next(g_real.kill, "kill");
  next(g_real.sigaction, "sigaction");
  next(g_real.signal, "signal");
  next(g_real.sigprocmask, "sigprocmask");
  next(g_real.pthread_sigmask, "pthread_sigmask");
  next(g_real.readlink, "readlink");
  next(g_real.readlinkat, "readlinkat");
  next(g_real.syscall, "syscall");
  next(g_real.tgkill, "tgkill");
  next(g_real.nanosleep, "nanosleep");
  next(g_real.clock_nanosleep, "clock_nanosleep");
  next(g_real.poll, "poll");
  next(g_real.ppoll, "ppoll");
  next(g_real.select, "select");
  next(g_real.pselect, "pselect");
  next(g_real.epoll_wait, "epoll_wait");
  next(g_real.epoll_pwait, "epoll_pwait");
  next(g_real.sem_timedwait, "sem_timedwait");
  next(g_real.sigsuspend, "sigsuspend");
  next(g_real.pause, "pause");
  next(g_real.timer_create, "timer_create");
  next(g_real.fork, "fork");
  next(g_real.execve, "execve");
  next(g_real.execvpe, "execvpe");
  next(g_real.fexecve, "fexecve");
  next(g_real.killpg, "killpg");
  next(g_real.sigqueue, "sigqueue");
  next(g_real.pidfd_open, "pidfd_open");
  next(g_real.waitpid, "waitpid");
  next(g_real.wait4, "wait4");
  next(g_real.wait3, "wait3");
  next(g_real.wait, "wait");
  next(g_real.waitid, "waitid");
  next(g_real.pclose, "pclose");
  next(g_real.getpgid, "getpgid");
  next(g_real.getpgrp, "getpgrp");
  next(g_real.getsid, "getsid");
  next(g_real.setsid, "setsid");
  next(g_real.setpgid, "setpgid");
  next(g_real.tcgetpgrp, "tcgetpgrp");
  next(g_real.tcsetpgrp, "tcsetpgrp");
  next(g_real.sched_setaffinity, "sched_setaffinity");
  next(g_real.sched_getaffinity, "sched_getaffinity");
  next(g_real.setpriority, "setpriority");
  next(g_real.getpriority, "getpriority");
  next(g_real.prlimit, "prlimit");
  next(g_real.prlimit64, "prlimit64");
  next(g_real.open, "open");
  next(g_real.open64, "open64");
  next(g_real.openat, "openat");
  next(g_real.openat64, "openat64");
  next(g_real.open_2, "__open_2");
  next(g_real.open64_2, "__open64_2");
  next(g_real.openat_2, "__openat_2");
  next(g_real.openat64_2, "__openat64_2");
  next(g_real.fopen, "fopen");
  next(g_real.fopen64, "fopen64");
  next(g_real.opendir, "opendir");
  next(g_real.stat, "stat");
  next(g_real.stat64, "stat64");
  next(g_real.lstat, "lstat");
  next(g_real.lstat64, "lstat64");
  next(g_real.fstatat, "fstatat");
  next(g_real.fstatat64, "fstatat64");
  next(g_real.statx, "statx");
  next(g_real.access, "access");
  next(g_real.faccessat, "faccessat");
  next(g_real.shmget, "shmget");
  next(g_real.shmat, "shmat");
  next(g_real.shmctl, "shmctl");
  next(g_real.semget, "semget");
  next(g_real.semop, "semop");
  next(g_real.semtimedop, "semtimedop");
  next(g_real.semctl, "semctl");
  next(g_real.msgget, "msgget");
  next(g_real.msgsnd, "msgsnd");
  next(g_real.msgrcv, "msgrcv");
  next(g_real.msgctl, "msgctl");
  next(g_real.connect, "connect");
  next(g_real.bind, "bind");
  next(g_real.sendto, "sendto");
  next(g_real.sendmsg, "sendmsg");
  next(g_real.sendmmsg, "sendmmsg");
  next(g_real.getsockname, "getsockname");
  next(g_real.getpeername, "getpeername");
  next(g_real.accept, "accept");
  next(g_real.accept4, "accept4");
  next(g_real.recvfrom, "recvfrom");
  next(g_real.recvfrom_chk, "__recvfrom_chk");
  next(g_real.recvmsg, "recvmsg");
  next(g_real.recvmmsg, "recvmmsg");
  g_resolved = true;
}

const RealFunctions& real() {
  if (!g_resolved) resolve_real_functions();
  return g_real;
}

}  // namespace ckpt
