// The fork fence: keeps the application's fork() out of the moments when the
// checkpoint thread holds descriptors of its own while the application runs
// (the write-mode sampler reading /proc/self/smaps_rollup, the copy-first
// planner reading /proc/self/maps and pagemap, the thread listing of
// /proc/self/task while threads are being stopped, and each stopping
// thread's suspend handler reading its pending signals from
// /proc/self/task/TID/status while the others still run, the check of the
// parent image before an incremental checkpoint). A child forked in such a
// moment would inherit the descriptor and, not knowing it for the runtime's,
// save it as its own; a restart then fails reopening it. The runtime holds
// the fence (ForkFence, RAII) around open..close; pthread_atfork's prepare
// handler waits for it, the parent's and child's handlers release it.
// Malloc-free, raw futexes.
#pragma once

namespace ckpt {

class ForkFence {
 public:
  ForkFence();
  ~ForkFence();
  ForkFence(const ForkFence&) = delete;
  ForkFence& operator=(const ForkFence&) = delete;
};

// pthread_atfork handlers (runtime.cc registers them).
void fork_fence_prepare();
void fork_fence_parent();
void fork_fence_child();

}  // namespace ckpt
