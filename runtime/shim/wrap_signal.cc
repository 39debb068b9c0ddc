// Signals the runtime owns (its suspend signal, the preemption signals) are
// invisible to the application: it can neither see their real handlers,
// replace them, nor block them. What it asks for is kept in a shadow table
// and answered back, so its own bookkeeping stays consistent.
#include <errno.h>
#include <signal.h>

#include <cstring>

#include "../core/runtime.h"
#include "../core/thread_local_state.h"
#include "real_functions.h"

using ckpt::real;
using ckpt::runtime_owns_signal;

namespace {

struct sigaction g_shadow[65];

// Signals 1..64 are the first 64 bits of a Linux sigset_t (bit s-1).
uint64_t low_word(const sigset_t* set) {
  uint64_t word;
  std::memcpy(&word, set, sizeof(word));
  return word;
}

void set_low_word(sigset_t* set, uint64_t word) { std::memcpy(set, &word, sizeof(word)); }

// The application's view of its mask: what it asked for, owned signals
// included; the kernel's: never an owned signal blocked.
template <typename Real>
int change_mask(Real call, int how, const sigset_t* set, sigset_t* old) {
  uint64_t owned = ckpt::runtime().owned_signals.load(std::memory_order_relaxed);
  uint64_t before = ckpt::t_state.owned_blocked;
  sigset_t copy;
  if (set) {
    copy = *set;
    set_low_word(&copy, low_word(set) & ~owned);
  }
  int r = call(how, set ? &copy : nullptr, old);
  if (r != 0) return r;
  if (set) {
    uint64_t asked = low_word(set) & owned;
    uint64_t& now = ckpt::t_state.owned_blocked;
    if (how == SIG_BLOCK)
      now |= asked;
    else if (how == SIG_UNBLOCK)
      now &= ~asked;
    else if (how == SIG_SETMASK)
      now = asked;
  }
  if (old) set_low_word(old, (low_word(old) & ~owned) | (before & owned));
  return 0;
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
  return change_mask(real().sigprocmask, how, set, old);
}

CKPT_WRAPPER int pthread_sigmask(int how, const sigset_t* set, sigset_t* old) {
  return change_mask(real().pthread_sigmask, how, set, old);
}
