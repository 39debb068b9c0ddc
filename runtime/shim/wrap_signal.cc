// Hiding the runtime's suspend signal: the application can neither see its
// handler, replace it, nor block it.
#include <errno.h>
#include <signal.h>

#include "../core/runtime.h"
#include "real_functions.h"

using ckpt::kSuspendSignal;
using ckpt::real;

namespace {

const sigset_t* without_suspend(const sigset_t* set, sigset_t& copy) {
  if (!set || !sigismember(set, kSuspendSignal)) return set;
  copy = *set;
  sigdelset(&copy, kSuspendSignal);
  return &copy;
}

}  // namespace

CKPT_WRAPPER int sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  if (sig == kSuspendSignal) {
    if (old) *old = {};
    if (act) {
      errno = EINVAL;
      return -1;
    }
    return 0;
  }
  return real().sigaction(sig, act, old);
}

CKPT_WRAPPER sighandler_t signal(int sig, sighandler_t handler) {
  if (sig == kSuspendSignal) {
    errno = EINVAL;
    return SIG_ERR;
  }
  return real().signal(sig, handler);
}

CKPT_WRAPPER int sigprocmask(int how, const sigset_t* set, sigset_t* old) {
  sigset_t copy;
  return real().sigprocmask(how, without_suspend(set, copy), old);
}

CKPT_WRAPPER int pthread_sigmask(int how, const sigset_t* set, sigset_t* old) {
  sigset_t copy;
  return real().pthread_sigmask(how, without_suspend(set, copy), old);
}
