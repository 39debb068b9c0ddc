// Signals the runtime owns (its suspend signal, the preemption signals) are
// invisible to the application: it can neither see their real handlers,
// replace them, nor block them. What it asks for is kept in a shadow table
// and answered back, so its own bookkeeping stays consistent.
//
// A SIGCHLD handler that takes a siginfo reads the child's pid in si_pid:
// the kernel's real one. Such a handler is installed behind a trampoline
// that turns si_pid virtual (virtual_pids.h) before calling it; the
// application reads its own handler back.
#include <errno.h>
#include <signal.h>

#include <atomic>
#include <cstring>

#include "plugins/pids/virtual_pids.h"
#include "real_functions.h"
#include "runtime/core/runtime.h"
#include "runtime/core/thread_local_state.h"

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

using SigactionHandler = void (*)(int, siginfo_t*, void*);

// The application's SA_SIGINFO handler of SIGCHLD, behind the trampoline.
std::atomic<SigactionHandler> g_child_handler{nullptr};

void child_trampoline(int sig, siginfo_t* info, void* context) {
  ckpt::siginfo_pid_to_virtual(info);
  SigactionHandler handler = g_child_handler.load(std::memory_order_acquire);
  if (handler) handler(sig, info, context);
}

// signal(2) answers the handler in the other shape (void (*)() in between
// is the cast that says so).
sighandler_t as_handler(SigactionHandler h) {
  return reinterpret_cast<sighandler_t>(reinterpret_cast<void (*)()>(h));
}

bool takes_siginfo(const struct sigaction* act) {
  return act && (act->sa_flags & SA_SIGINFO) && act->sa_handler != SIG_DFL &&
         act->sa_handler != SIG_IGN;
}

int child_sigaction(const struct sigaction* act, struct sigaction* old) {
  SigactionHandler before = g_child_handler.load(std::memory_order_relaxed);
  struct sigaction behind;
  if (takes_siginfo(act)) {
    behind = *act;
    behind.sa_sigaction = child_trampoline;
    g_child_handler.store(act->sa_sigaction, std::memory_order_release);
  }
  int r = real().sigaction(SIGCHLD, takes_siginfo(act) ? &behind : act, old);
  if (r == 0 && old && old->sa_sigaction == child_trampoline) old->sa_sigaction = before;
  return r;
}

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
  if (sig == SIGCHLD) return child_sigaction(act, old);
  return real().sigaction(sig, act, old);
}

CKPT_WRAPPER sighandler_t signal(int sig, sighandler_t handler) {
  if (runtime_owns_signal(sig)) {
    sighandler_t old = g_shadow[sig].sa_handler;
    g_shadow[sig].sa_handler = handler;
    return old;
  }
  sighandler_t old = real().signal(sig, handler);
  if (sig == SIGCHLD && old == as_handler(child_trampoline))
    old = as_handler(g_child_handler.load(std::memory_order_relaxed));
  return old;
}

CKPT_WRAPPER int sigprocmask(int how, const sigset_t* set, sigset_t* old) {
  return change_mask(real().sigprocmask, how, set, old);
}

CKPT_WRAPPER int pthread_sigmask(int how, const sigset_t* set, sigset_t* old) {
  return change_mask(real().pthread_sigmask, how, set, old);
}
