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
  next(g_real.execve, "execve");
  next(g_real.execvpe, "execvpe");
  next(g_real.fexecve, "fexecve");
  g_resolved = true;
}

const RealFunctions& real() {
  if (!g_resolved) resolve_real_functions();
  return g_real;
}

}  // namespace ckpt
