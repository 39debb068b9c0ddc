// The fork fence (see fork_fence.h): one futex lock shared by the runtime's
// short descriptor windows and the application's forks.
#include "fork_fence.h"

#include <signal.h>

#include "ckpt/sys.h"
#include "futex.h"
#include "runtime.h"

namespace ckpt {
namespace {

SpinFutexLock g_fence;

// The forking thread keeps the suspend signal blocked while it holds the
// fence: stopped there, it would keep the fence from the checkpoint thread,
// which takes it to list the threads it is stopping.
void mask_suspend_signal(int how) {
  uint64_t set = 1ull << (kSuspendSignal - 1);
  sys::call4(sys::kRtSigprocmask, how, reinterpret_cast<long>(&set), 0, 8);
}

}  // namespace

ForkFence::ForkFence() { g_fence.lock(); }
ForkFence::~ForkFence() { g_fence.unlock(); }

void fork_fence_prepare() {
  mask_suspend_signal(SIG_BLOCK);
  g_fence.lock();
}

void fork_fence_parent() {
  g_fence.unlock();
  mask_suspend_signal(SIG_UNBLOCK);
}

// The child's copy of the lock is held by its one thread, the forking one.
void fork_fence_child() {
  g_fence.unlock();
  mask_suspend_signal(SIG_UNBLOCK);
}

}  // namespace ckpt
