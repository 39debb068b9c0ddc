// The one explicit table of the real libc functions the wrappers call.
// Filled by resolve_real_functions() in the runtime's constructor (dlsym may
// allocate, so never later); a wrapper called earlier resolves on demand.
#pragma once

#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/types.h>
#include <time.h>

// Marks an interposed libc function (the library is built -fvisibility=hidden).
#define CKPT_WRAPPER extern "C" __attribute__((visibility("default")))

namespace ckpt {

struct RealFunctions {
  pid_t (*getpid)();
  pid_t (*getppid)();
  int (*kill)(pid_t, int);
  int (*sigaction)(int, const struct sigaction*, struct sigaction*);
  sighandler_t (*signal)(int, sighandler_t);
  int (*sigprocmask)(int, const sigset_t*, sigset_t*);
  int (*pthread_sigmask)(int, const sigset_t*, sigset_t*);
  ssize_t (*readlink)(const char*, char*, size_t);
  ssize_t (*readlinkat)(int, const char*, char*, size_t);
  long (*syscall)(long, ...);
  int (*tgkill)(pid_t, pid_t, int);
  int (*nanosleep)(const timespec*, timespec*);
  int (*clock_nanosleep)(clockid_t, int, const timespec*, timespec*);
  int (*poll)(pollfd*, nfds_t, int);
  int (*ppoll)(pollfd*, nfds_t, const timespec*, const sigset_t*);
  int (*select)(int, fd_set*, fd_set*, fd_set*, timeval*);
  int (*pselect)(int, fd_set*, fd_set*, fd_set*, const timespec*, const sigset_t*);
  int (*epoll_wait)(int, epoll_event*, int, int);
  int (*epoll_pwait)(int, epoll_event*, int, int, const sigset_t*);
  int (*sem_timedwait)(sem_t*, const timespec*);
  int (*sigsuspend)(const sigset_t*);
  int (*pause)();
  int (*timer_create)(clockid_t, sigevent*, timer_t*);
  int (*execve)(const char*, char* const[], char* const[]);
  int (*execvpe)(const char*, char* const[], char* const[]);
  int (*fexecve)(int, char* const[], char* const[]);
};

const RealFunctions& real();
void resolve_real_functions();

}  // namespace ckpt
