// The one explicit table of the real libc functions the wrappers call.
// Filled by resolve_real_functions() in the runtime's constructor (dlsym may
// allocate, so never later); a wrapper called earlier resolves on demand.
#pragma once

#include <signal.h>
#include <sys/types.h>

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
};

const RealFunctions& real();
void resolve_real_functions();

}  // namespace ckpt
