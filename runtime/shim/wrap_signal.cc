// Signals the runtime owns (its suspend signal, the preemption signals) are
// invisible to the application: it can neither see their real handlers,
// replace them, nor block them. What it asks for is kept in a shadow table
// and answered back, so its own bookkeeping stays consistent.
#include <errno.h>
#include <signal.h>

#include "../core/runtime.h"
#include "real_functions.h"

using ckpt::real;
using ckpt::runtime_owns_signal;

namespace {

struct sigaction g_shadow[65];

const sigset_t* without_owned(const sigset_t* set, sigset_t& copy) {
  if (!set) return set;
  copy = *set;
  for (int sig = 1; sig <= 64; sig++)
    if (runtime_owns_signal(sig)) sigdelset(&copy, sig);
  return &copy;
}

}  // namespace

CKPT_WRAPPER int sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  if (runtime_owns_signal(sig)) {
    if (old) *old = g_shadow[sig];
    if (act) g_shadow[sig] = *act;
    return 0;
  }
  return real().sigaction(sig, act, old);
}

CKPT_WRAPPER sighandler_t signal(int sig, sighandler_t handler) {
  if (runtime_owns_signal(sig)) {
    sighandler_t old = g_shadow[sig].sa_handler;
    g_shadow[sig].sa_handler = handler;
    return old;
  }
  return real().signal(sig, handler);
}

CKPT_WRAPPER int sigprocmask(int how, const sigset_t* set, sigset_t* old) {
  sigset_t copy;
  return real().sigprocmask(how, without_owned(set, copy), old);
}

CKPT_WRAPPER int pthread_sigmask(int how, const sigset_t* set, sigset_t* old) {
  sigset_t copy;
  return real().pthread_sigmask(how, without_owned(set, copy), old);
}
