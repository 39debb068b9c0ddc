// The runtime's process-wide state: one instance per process, in libckpt's
// own data, so it is saved with the image and comes back with the memory.
//
// This is the only global of the shim. Wrappers reach it through runtime();
// the checkpoint and restart code receives it by reference.
#pragma once

#include <netinet/in.h>
#include <pthread.h>

#include <atomic>
#include <cstdint>

#include "ckpt/image_format.h"
#include "ckpt/restore_args.h"
#include "plugins/pids/pid_table.h"
#include "plugins/sysv_ipc/sysv_ipc.h"

namespace ckpt {

inline constexpr int kMaxThreads = 1024;
// The signal that stops application threads; hidden from the application.
inline constexpr int kSuspendSignal = 64;  // SIGRTMAX

enum class SlotState : int32_t { kFree = 0, kRunning, kStopped };

// One application thread as the suspend machinery sees it.
struct ThreadSlot {
  std::atomic<int32_t> state{0};  // SlotState
  int32_t real_tid = 0;
  int32_t prev_real_tid = 0;  // before the last restart
  int32_t vtid = 0;
  uint64_t fs_base = 0;
  image::JumpContext ctx = {};  // resume point inside the suspend handler
  char name[16] = {};           // the thread's comm (PR_GET_NAME), set again at restart
};

inline constexpr int kMaxTimers = 128;

// A POSIX timer as /proc/self/timers and timer_gettime show it.
struct SavedTimer {
  int32_t id = 0;
  int32_t signo = 0;
  uint64_t value = 0;  // sigev_value
  int32_t notify = 0;  // SIGEV_* (SIGEV_THREAD_ID included)
  int32_t target = 0;  // real pid or tid it signals
  int32_t clock = 0;
  int64_t interval_ns = 0, remaining_ns = 0;
};

// Timers and pending signals captured while the threads are stopped.
struct SavedTimeState {
  int64_t itimer[3][2] = {};  // ITIMER_REAL/VIRTUAL/PROF: interval, remaining (us)
  SavedTimer timers[kMaxTimers];
  int n_timers = 0;
};

// A virtual tid and where glibc keeps that thread's real tid.
struct TidEntry {
  std::atomic<int32_t> vtid{0};
  std::atomic<uint64_t> tid_addr{0};
};

struct Runtime {
  // Identity. Virtual ids are those of the first launch and never change.
  int32_t vpid = 0, vppid = 0;
  int32_t real_pid = 0, real_ppid = 0;
  uint32_t restart_count = 0;
  PidTable pids;       // the computation's virtual -> real pids (pid_table.h)
  SysvIdTable shmids;  // SysV ids a restart changed, per kind (sysv_ipc.h)
  SysvIdTable semids;
  SysvIdTable msgids;
  SysvIdSet used_sems;  // semaphore sets and message queues used (virtual ids)
  SysvIdSet used_msgs;
  char host[256] = {};
  char program[64] = {};
  char exe[4096] = {};
  int32_t rank = -1;  // MPI rank from the launcher's environment (mpi_rank.h), -1 if none

  // Coordinator connection (all resolved at startup: no malloc later).
  sockaddr_in coord_addr = {};
  uint8_t secret[16] = {};
  bool have_secret = false;
  int coord_fd = -1;
  uint64_t committed_generation = 0;

  // The checkpoint thread.
  pthread_t ckpt_thread = {};
  int32_t ckpt_tid = 0;
  uint64_t ckpt_fs_base = 0;
  image::JumpContext ckpt_ctx = {};

  // glibc layout facts probed at startup (offsets from the thread pointer).
  int64_t tid_offset = -1;     // struct pthread::tid
  int64_t robust_offset = -1;  // struct pthread::robust_head

  // Threads.
  TidEntry tids[kMaxThreads];
  ThreadSlot threads[kMaxThreads];
  std::atomic<int32_t> stopped_count{0};
  std::atomic<int32_t> resume_generation{0};
  std::atomic<int32_t> restarted_count{0};

  SavedTimeState time_state;

  // Options.
  bool file_rollback = true;

  // Signals the runtime keeps for itself (bit s-1): the suspend signal and
  // the preemption signals. The application never sees or changes them.
  std::atomic<uint64_t> owned_signals{1ull << (kSuspendSignal - 1)};
  std::atomic<int32_t> preempt_signo{0};
  // Wake-ups of the checkpoint thread (runtime_events.h).
  int event_fd = -1;
  std::atomic<uint32_t> pending_events{0};

  // 1 from a Suspend until the Resume: exec and exit wait for 0, so that a
  // process resumed early (forked writes) still answers for its image.
  std::atomic<int32_t> checkpoint_active{0};
  // Threads inside a section where checkpoints wait (checkpoint_deferral.h),
  // and how long a checkpoint waits for them (CKPT_DEFER_TIMEOUT).
  std::atomic<int32_t> checkpoint_deferred{0};
  long defer_timeout_ms = 60000;

  // Set by the restorer before it jumps to the checkpoint thread.
  RestoreArgs* restore_args = nullptr;
  bool ready = false;
};

Runtime& runtime();

// A new child's real pid that is the virtual pid of another process of the
// computation (possible only after a restart that could not keep pids).
inline bool fork_pid_clashes(const Runtime& rt, int32_t child_real) {
  return rt.ready && !rt.pids.empty() && rt.pids.is_virtual_in_use(child_real);
}

inline bool runtime_owns_signal(int sig) {
  return sig >= 1 && sig <= 64 && (runtime().owned_signals.load() >> (sig - 1)) & 1;
}

}  // namespace ckpt
