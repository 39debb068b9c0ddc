// The fork fence (see fork_fence.h): one futex lock shared by the runtime's
// short descriptor windows and the application's forks.
#include "fork_fence.h"

#include "futex.h"

namespace ckpt {
namespace {

SpinFutexLock g_fence;

}  // namespace

ForkFence::ForkFence() { g_fence.lock(); }
ForkFence::~ForkFence() { g_fence.unlock(); }

void fork_fence_prepare() { g_fence.lock(); }
void fork_fence_parent() { g_fence.unlock(); }
// The child's copy of the lock is held by its one thread, the forking one.
void fork_fence_child() { g_fence.unlock(); }

}  // namespace ckpt
