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

#include "ckpt/sys.h"
#include "context_switch.h"
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

std::atomic<int32_t> g_runtime_tids[kMaxRuntimeTids];
std::atomic<int32_t> g_slot_count{0};

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
}

// Collect the tids of /proc/self/task that are not yet in `seen`.
int list_new_tids(const Runtime& rt, int32_t* seen, int n_seen, int32_t* out, int max_out) {
  int n = 0;
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

void install_suspend_handler() {
  struct sigaction sa = {};
  sa.sa_sigaction = suspend_handler;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigfillset(&sa.sa_mask);
  CKPT_CHECK(real().sigaction(kSuspendSignal, &sa, nullptr) == 0);
}

bool suspend_all_threads(Runtime& rt, MessageString& err) {
  static int32_t signaled[kMaxThreads];
  int32_t fresh[kMaxThreads];
  int n_signaled = 0;
  g_slot_count.store(0);
  rt.stopped_count.store(0);
  reset_pending_signals();
  for (;;) {
    int n = list_new_tids(rt, signaled, n_signaled, fresh, kMaxThreads - n_signaled);
    if (n == 0) break;
    for (int i = 0; i < n; i++) {
      if (sys::tgkill(rt.real_pid, fresh[i], kSuspendSignal) == 0)
        signaled[n_signaled++] = fresh[i];
    }
    // Wait until every signaled thread that still exists has stopped.
    for (long waited = 0;; waited += 20) {
      int32_t stopped = rt.stopped_count.load();
      int alive = 0;
      for (int i = 0; i < n_signaled; i++)
        if (sys::tgkill(rt.real_pid, signaled[i], 0) == 0) alive++;
      if (stopped >= alive) break;
      if (waited >= kStopTimeoutMs) {
        err.append("a thread did not stop within ").append_int(kStopTimeoutMs / 1000);
        err.append(" s (it may block signal ").append_int(kSuspendSignal).append(")");
        resume_all_threads(rt);
        return false;
      }
      futex_wait(rt.stopped_count, stopped, 20);
    }
  }
  return true;
}

int32_t stopped_thread_count() { return g_slot_count.load(); }

void resume_all_threads(Runtime& rt) {
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
