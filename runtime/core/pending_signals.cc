// Pending signals across a restart (see pending_signals.h).
#include "pending_signals.h"

#include <signal.h>
#include <sys/syscall.h>
#include <time.h>

#include <atomic>

#include "ckpt/sys.h"
#include "common/hex.h"
#include "fixed_string.h"
#include "fork_fence.h"
#include "futex.h"
#include "proc_files.h"

namespace ckpt {
namespace {

constexpr int kMaxPending = 1024;
constexpr uint64_t kNotOurs =
    (1ull << (kSuspendSignal - 1)) | (1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1));

struct PendingSignal {
  int32_t slot;  // -1: process-wide
  siginfo_t info;
};

PendingSignal g_pending[kMaxPending];
std::atomic<int32_t> g_count{0};

uint64_t pending_mask(const char* path, std::string_view field) {
  char buf[4096];
  ByteWriter text(buf, sizeof(buf));
  read_whole_file(path, text);
  std::string_view s(buf, text.size());
  size_t at = s.find(field);
  if (at == std::string_view::npos) return 0;
  uint64_t v = 0;
  for (size_t i = at + field.size(); i < s.size(); i++) {
    char c = s[i];
    if (c == '\t' || c == ' ') continue;
    int d = hex_digit(c);
    if (d < 0) break;
    v = v * 16 + d;
  }
  return v & ~kNotOurs;
}

// Dequeues up to `max` instances of `sig` (the thread's own queue first,
// then the process's) into the record list.
void take(int sig, int max, int32_t slot) {
  uint64_t mask = 1ull << (sig - 1);
  timespec zero = {0, 0};
  for (int n = 0; n < max; n++) {
    siginfo_t info;
    long got = sys::call4(SYS_rt_sigtimedwait, reinterpret_cast<long>(&mask),
                          reinterpret_cast<long>(&info), reinterpret_cast<long>(&zero), 8);
    if (got <= 0) break;
    int32_t i = g_count.fetch_add(1);
    if (i >= kMaxPending) break;
    g_pending[i] = {slot, info};
  }
}

// Queues a record again in this process. The kernel lets only the thread-
// group leader queue a process-wide signal with a kernel or kill() si_code;
// elsewhere such a signal is sent again with kill() (its sender is lost).
void requeue_here(const PendingSignal& p) {
  long pid = sys::getpid(), tid = sys::gettid();
  const siginfo_t& info = p.info;
  if (p.slot >= 0) {
    sys::call4(SYS_rt_tgsigqueueinfo, pid, tid, info.si_signo, reinterpret_cast<long>(&info));
  } else if (tid == pid || (info.si_code < 0 && info.si_code != SI_TKILL)) {
    sys::call3(SYS_rt_sigqueueinfo, pid, info.si_signo, reinterpret_cast<long>(&info));
  } else {
    sys::kill(pid, info.si_signo);
  }
}

SpinFutexLock g_lock;  // suspend handlers take their turn
bool g_shared_taken = false;

}  // namespace

void reset_pending_signals() {
  g_count.store(0);
  g_shared_taken = false;
}

void forget_parent_pending_signals() {
  g_lock.reset_in_child();
  reset_pending_signals();
}

void save_pending_signals(int32_t slot) {
  g_lock.lock();
  FixedString<64> path;
  path.append("/proc/self/task/").append_int(sys::gettid()).append("/status");
  uint64_t own, shared;
  {
    // Threads not stopped yet may fork: their child must not inherit our
    // descriptor of this thread's status (it would save it as its own).
    ForkFence fence;
    own = pending_mask(path.c_str(), "SigPnd:");
    shared = pending_mask("/proc/self/status", "ShdPnd:");
  }
  int32_t first = g_count.load();
  for (int sig = 1; sig <= 64; sig++) {
    uint64_t bit = 1ull << (sig - 1);
    // Standard signals are pending at most once per queue; with the signal
    // also process-wide, the first instance taken is the thread's own.
    if (own & bit) take(sig, (shared & bit) || sig < 32 ? 1 : kMaxPending, slot);
  }
  if (!g_shared_taken) {
    g_shared_taken = true;
    for (int sig = 1; sig <= 64; sig++)
      if (shared & (1ull << (sig - 1))) take(sig, kMaxPending, -1);
  }
  int32_t last = g_count.load() < kMaxPending ? g_count.load() : kMaxPending;
  for (int32_t i = first; i < last; i++) requeue_here(g_pending[i]);
  g_lock.unlock();
}

void requeue_pending_signals(const Runtime& rt) {
  int32_t n = g_count.load() < kMaxPending ? g_count.load() : kMaxPending;
  for (int32_t i = 0; i < n; i++) {
    siginfo_t& info = g_pending[i].info;
    int32_t slot = g_pending[i].slot;
    // A preemption signal (the runtime's own) that came while the
    // checkpoint ran was for the run that ended: the restored job must not
    // take it for a new preemption and end at once.
    if (info.si_signo > 0 && (rt.owned_signals.load() & (1ull << (info.si_signo - 1)))) continue;
    if (slot < 0)
      sys::call3(SYS_rt_sigqueueinfo, rt.real_pid, info.si_signo, reinterpret_cast<long>(&info));
    else if (info.si_code < 0 && info.si_code != SI_TKILL)
      sys::call4(SYS_rt_tgsigqueueinfo, rt.real_pid, rt.threads[slot].real_tid, info.si_signo,
                 reinterpret_cast<long>(&info));
    else  // only the thread itself may queue these with their siginfo
      sys::tgkill(rt.real_pid, rt.threads[slot].real_tid, info.si_signo);
  }
}

}  // namespace ckpt
