// Suspend/resume of application threads (see thread_suspend.h).
#include "thread_suspend.h"

#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/prctl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>

#include <cstddef>
#include <string_view>

#include "ckpt/sys.h"
#include "common/hex.h"
#include "context_switch.h"
#include "fork_fence.h"
#include "futex.h"
#include "log.h"
#include "pending_signals.h"
#include "proc_files.h"
#include "runtime/shim/real_functions.h"
#include "thread_local_state.h"
#include "thread_pointer.h"

extern "C" {
long ckpt_clone3_resume(void* args, size_t size, const ckpt::image::JumpContext* ctx);
long ckpt_clone_resume(unsigned long flags, void* stack, void* parent_tid, void* child_tid,
                       unsigned long tls, const ckpt::image::JumpContext* ctx);
// glibc >= 2.35 (weak so that older ones still load us).
extern const ptrdiff_t __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));
}

namespace ckpt {
namespace {

constexpr uint32_t kRseqSig = 0x53053053;
constexpr int kMaxRuntimeTids = 64;
constexpr long kStopTimeoutMs = 10000;
// A thread that keeps the suspend signal blocked this long while others
// stopped may be waiting for a lock a stopped thread holds (glibc frees a
// detached thread's stack, and may call free(), with every signal blocked).
constexpr long kStuckMs = 200;
constexpr long kPollMs = 20;

std::atomic<int32_t> g_runtime_tids[kMaxRuntimeTids];
std::atomic<int32_t> g_slot_count{0};
std::atomic<int32_t> g_in_handler{0};  // threads between entry and return of suspend_handler
// Each stop attempt has a number; suspend signals count only while one runs
// (a retry signals a thread again, and the first signal may still come).
std::atomic<uint32_t> g_attempt{0};
std::atomic<bool> g_stopping{false};

struct KernelSigset {
  uint64_t bits;
};

bool is_runtime_tid(const Runtime& rt, int32_t tid) {
  if (tid == rt.ckpt_tid) return true;
  for (auto& t : g_runtime_tids)
    if (t.load() == tid) return true;
  return false;
}

void suspend_handler(int, siginfo_t* info, void*) {
  Runtime& rt = runtime();
  if (info->si_code != SI_TKILL) return;  // not ours (kill(2) from outside)
  uint32_t attempt = g_attempt.load();
  if (!g_stopping.load() || t_state.suspend_attempt == attempt) return;  // a stale signal
  t_state.suspend_attempt = attempt;
  g_in_handler.fetch_add(1);
  int saved_errno = errno;
  int32_t generation = rt.resume_generation.load();
  int32_t index = g_slot_count.fetch_add(1);
  if (index >= kMaxThreads) CKPT_CHECK(!"too many threads");
  ThreadSlot* slot = &rt.threads[index];
  slot->real_tid = static_cast<int32_t>(sys::gettid());
  slot->vtid = current_vtid(rt);
  slot->fs_base = thread_pointer();
  sys::prctl(PR_GET_NAME, reinterpret_cast<long>(slot->name), 0, 0, 0);
  t_state.ckpt_interrupts++;
  save_pending_signals(index);
  // A blocking call in progress keeps its remaining time across a restart.
  int64_t remaining = t_state.deadline_ns ? t_state.deadline_ns - monotonic_ns() : 0;
  if (ckpt_save_context(&slot->ctx) == 0) {
    slot->state.store(static_cast<int32_t>(SlotState::kStopped));
    rt.stopped_count.fetch_add(1);
    futex_wake_all(rt.stopped_count);
  } else {
    // A new task after a restart, running on the saved stack and TLS.
    slot->prev_real_tid = slot->real_tid;
    slot->real_tid = static_cast<int32_t>(sys::gettid());
    register_task_state(rt, slot->fs_base);
    sys::prctl(PR_SET_NAME, reinterpret_cast<long>(slot->name), 0, 0, 0);  // its own name again
    if (t_state.deadline_ns) t_state.deadline_ns = monotonic_ns() + remaining;
    rt.restarted_count.fetch_add(1);
    futex_wake_all(rt.restarted_count);
  }
  while (rt.resume_generation.load() == generation) futex_wait(rt.resume_generation, generation);
  slot->state.store(static_cast<int32_t>(SlotState::kRunning));
  errno = saved_errno;
  if (g_in_handler.fetch_sub(1) == 1) futex_wake_all(g_in_handler);
}

// Collect the tids of /proc/self/task that are not yet in `seen`.
int list_new_tids(const Runtime& rt, int32_t* seen, int n_seen, int32_t* out, int max_out) {
  int n = 0;
  ForkFence fence;  // threads not stopped yet may fork: keep our descriptor out of their children
  for_each_numbered_entry("/proc/self/task", [&](long number, int) {
    auto tid = static_cast<int32_t>(number);
    if (tid <= 0 || is_runtime_tid(rt, tid)) return;
    bool known = false;
    for (int i = 0; i < n_seen && !known; i++) known = seen[i] == tid;
    if (!known && n < max_out) out[n++] = tid;
  });
  return n;
}

}  // namespace

void add_runtime_tid(int32_t tid) {
  for (auto& t : g_runtime_tids) {
    int32_t zero = 0;
    if (t.compare_exchange_strong(zero, tid)) return;
  }
}

void remove_runtime_tid(int32_t tid) {
  for (auto& t : g_runtime_tids) {
    int32_t expected = tid;
    if (t.compare_exchange_strong(expected, 0)) return;
  }
}

void forget_parent_suspend() {
  for (auto& t : g_runtime_tids) t.store(0);
  g_slot_count.store(0);
  g_in_handler.store(0);
  g_stopping.store(false);
  forget_parent_pending_signals();
}

uint64_t block_suspend_signal() {
  uint64_t suspend = 1ull << (kSuspendSignal - 1), old = 0;
  sys::call4(sys::kRtSigprocmask, SIG_BLOCK, reinterpret_cast<long>(&suspend),
             reinterpret_cast<long>(&old), 8);
  return old;
}

void restore_signal_mask(uint64_t old) {
  sys::call4(sys::kRtSigprocmask, SIG_SETMASK, reinterpret_cast<long>(&old), 0, 8);
}

void install_suspend_handler() {
  struct sigaction sa = {};
  sa.sa_sigaction = suspend_handler;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigfillset(&sa.sa_mask);
  CKPT_CHECK(real().sigaction(kSuspendSignal, &sa, nullptr) == 0);
}

namespace {

enum class Attempt { kStopped, kStuck, kTimedOut };

struct StopState {
  int32_t signaled[kMaxThreads];
  int n_signaled = 0;
  int32_t waiting_for = 0;  // a signaled thread that has not stopped
};

bool has_stopped(int32_t tid) {
  int32_t n = g_slot_count.load();
  for (int32_t i = 0; i < n && i < kMaxThreads; i++)
    if (runtime().threads[i].real_tid == tid) return true;
  return false;
}

// A signaled thread, alive, that has not finished stopping (it may be
// inside its handler), for the message of an attempt that timed out.
int32_t one_not_stopped(const Runtime& rt, const StopState& st) {
  int32_t n = g_slot_count.load();
  for (int i = 0; i < st.n_signaled; i++) {
    int32_t tid = st.signaled[i];
    if (sys::tgkill(rt.real_pid, tid, 0) != 0) continue;
    bool stopped = false;
    for (int32_t j = 0; j < n && j < kMaxThreads && !stopped; j++)
      stopped = rt.threads[j].real_tid == tid &&
                rt.threads[j].state.load() == static_cast<int32_t>(SlotState::kStopped);
    if (!stopped) return tid;
  }
  return st.waiting_for;
}

bool blocks_suspend_signal(int32_t tid) {
  FixedString<64> path;
  path.append("/proc/self/task/").append_int(tid).append("/status");
  char buf[4096];
  ByteWriter text(buf, sizeof(buf));
  {
    ForkFence fence;
    if (!read_whole_file(path.c_str(), text)) return false;
  }
  std::string_view s(buf, text.size());
  size_t at = s.find("SigBlk:");
  if (at == std::string_view::npos) return false;
  size_t end = s.find('\n', at);
  std::string_view hex = s.substr(at + 7, end == std::string_view::npos ? end : end - at - 7);
  while (!hex.empty() && (hex.front() == '\t' || hex.front() == ' ')) hex.remove_prefix(1);
  // 16 hex digits, signal 64 is the top bit of the first one.
  return hex.size() == 16 && (hex_digit(hex[0]) & 8) != 0;
}

// True when every signaled thread that is alive and not stopped keeps the
// suspend signal blocked (sets st.waiting_for to one of them).
bool all_missing_block(const Runtime& rt, StopState& st) {
  bool any = false;
  for (int i = 0; i < st.n_signaled; i++) {
    int32_t tid = st.signaled[i];
    if (sys::tgkill(rt.real_pid, tid, 0) != 0 || has_stopped(tid)) continue;
    st.waiting_for = tid;
    if (!blocks_suspend_signal(tid)) return false;
    any = true;
  }
  return any;
}

// Signals every thread (new ones too, until none appear) and waits until
// each that still exists has stopped.
Attempt stop_attempt(Runtime& rt, StopState& st, long budget_ms) {
  g_attempt.fetch_add(1);
  g_stopping.store(true);
  st.n_signaled = 0;
  g_slot_count.store(0);
  rt.stopped_count.store(0);
  reset_pending_signals();
  int32_t fresh[kMaxThreads];
  long waited = 0;
  for (;;) {
    int n = list_new_tids(rt, st.signaled, st.n_signaled, fresh, kMaxThreads - st.n_signaled);
    if (n == 0) return Attempt::kStopped;
    for (int i = 0; i < n; i++) {
      if (sys::tgkill(rt.real_pid, fresh[i], kSuspendSignal) == 0)
        st.signaled[st.n_signaled++] = fresh[i];
    }
    int32_t last_stopped = -1;
    for (long still = 0;; waited += kPollMs, still += kPollMs) {
      int32_t stopped = rt.stopped_count.load();
      int alive = 0;
      for (int i = 0; i < st.n_signaled; i++)
        if (sys::tgkill(rt.real_pid, st.signaled[i], 0) == 0) alive++;
      if (stopped >= alive) break;
      if (stopped != last_stopped) still = 0, last_stopped = stopped;
      if (still >= kStuckMs && all_missing_block(rt, st)) return Attempt::kStuck;
      if (waited >= budget_ms) return Attempt::kTimedOut;
      futex_wait(rt.stopped_count, stopped, kPollMs);
    }
  }
}

// Resumes the threads of a failed attempt and waits until each has left
// its handler, so that the next attempt starts from clean slots.
void undo_attempt(Runtime& rt) {
  resume_all_threads(rt);
  for (int waited = 0; waited < 1000; waited += kPollMs) {
    int32_t n = g_in_handler.load();
    if (n == 0) return;
    futex_wait(g_in_handler, n, kPollMs);
  }
}

}  // namespace

// A thread stuck with the suspend signal blocked is usually glibc's exit
// path waiting for a lock (the stack cache, malloc's) that a thread stopped
// earlier holds: every thread is resumed for a moment and stopped again.
bool suspend_all_threads(Runtime& rt, MessageString& err) {
  static StopState st;
  int64_t start = monotonic_ns();
  for (int retry = 0;; retry++) {
    long spent = static_cast<long>((monotonic_ns() - start) / 1000000);
    Attempt a = stop_attempt(rt, st, kStopTimeoutMs - spent);
    if (a == Attempt::kStopped) return true;
    spent = static_cast<long>((monotonic_ns() - start) / 1000000);
    if (a == Attempt::kTimedOut || spent >= kStopTimeoutMs) {
      err.append("thread ").append_int(one_not_stopped(rt, st)).append(" did not stop within ");
      err.append_int(kStopTimeoutMs / 1000).append(" s (it may block signal ");
      err.append_int(kSuspendSignal).append(")");
      undo_attempt(rt);
      return false;
    }
    if (log_enabled(LogLevel::kDebug)) {
      FixedString<128> line;
      line.append("thread ").append_int(st.waiting_for).append(" keeps signal ");
      line.append_int(kSuspendSignal).append(" blocked while others stopped: stopping again");
      log_line(LogLevel::kDebug, line.view());
    }
    undo_attempt(rt);
    timespec pause = {0, (retry < 5 ? 1 + retry : 10) * 1000000L};
    sys::call2(SYS_nanosleep, reinterpret_cast<long>(&pause), 0);
  }
}

int32_t stopped_thread_count() { return g_slot_count.load(); }

void resume_all_threads(Runtime& rt) {
  g_stopping.store(false);
  rt.resume_generation.fetch_add(1);
  futex_wake_all(rt.resume_generation);
}

void register_task_state(const Runtime& rt, uint64_t fs_base) {
  if (rt.tid_offset >= 0) {
    auto* tid = reinterpret_cast<int32_t*>(fs_base + rt.tid_offset);
    *tid = static_cast<int32_t>(sys::gettid());
    sys::call1(SYS_set_tid_address, reinterpret_cast<long>(tid));
  }
  if (rt.robust_offset >= 0)
    sys::call2(SYS_set_robust_list, static_cast<long>(fs_base + rt.robust_offset), 24);
  if (&__rseq_size && __rseq_size > 0) {
    long len = __rseq_size < 32 ? 32 : __rseq_size;
    sys::call4(SYS_rseq, static_cast<long>(fs_base + __rseq_offset), len, 0, kRseqSig);
  }
}

namespace {

struct CloneArgs {  // struct clone_args (clone3), version 2
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
  uint64_t set_tid, set_tid_size, cgroup;
};

// With CAP_CHECKPOINT_RESTORE the thread gets its old tid back (clone3
// set_tid), so every tid glibc stored (mutex owners, rwlock writers) stays
// true. Without it, a new tid: see docs/supported.md for what that limits.
long clone_thread(const Runtime& rt, const ThreadSlot& slot, void* stack, void* tid_addr) {
  constexpr unsigned long kFlags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                                   CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS |
                                   CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
  static bool set_tid_works = true;
  uint64_t want = static_cast<uint64_t>(slot.vtid);
  if (set_tid_works && slot.vtid > 0 && slot.vtid < (1 << 22)) {
    // clone3 takes the lowest address of the stack and its size.
    uint64_t low = (reinterpret_cast<uint64_t>(stack) - 4096) & ~15ul;
    CloneArgs args = {kFlags,
                      0,
                      reinterpret_cast<uint64_t>(tid_addr),
                      reinterpret_cast<uint64_t>(tid_addr),
                      0,
                      low,
                      4096,
                      slot.fs_base,
                      reinterpret_cast<uint64_t>(&want),
                      1,
                      0};
    long tid = ckpt_clone3_resume(&args, sizeof(args), &slot.ctx);
    if (tid > 0) return tid;
    if (tid == -EPERM || tid == -ENOSYS || tid == -E2BIG) set_tid_works = false;
  }
  (void)rt;
  return ckpt_clone_resume(kFlags, stack, tid_addr, tid_addr, slot.fs_base, &slot.ctx);
}

}  // namespace

bool recreate_threads(Runtime& rt, MessageString& err) {
  int32_t count = g_slot_count.load();
  rt.restarted_count.store(0);
  for (int32_t i = 0; i < count; i++) {
    ThreadSlot& slot = rt.threads[i];
    // The new task starts below the saved frame (past the red zone) and
    // immediately switches to the saved stack pointer.
    auto stack = reinterpret_cast<void*>((slot.ctx.rsp - 1024) & ~15ul);
    void* tid_addr =
        rt.tid_offset >= 0 ? reinterpret_cast<void*>(slot.fs_base + rt.tid_offset) : nullptr;
    long tid = clone_thread(rt, slot, stack, tid_addr);
    if (tid < 0) {
      err.append("cannot recreate thread ").append_int(slot.real_tid).append(": errno ");
      err.append_int(-tid);
      return false;
    }
  }
  for (;;) {
    int32_t back = rt.restarted_count.load();
    if (back >= count) break;
    futex_wait(rt.restarted_count, back, 100);
  }
  return true;
}

}  // namespace ckpt
