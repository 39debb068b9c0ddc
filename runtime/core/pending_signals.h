// Pending signals kept across a restart with their siginfo and their
// repeats (queued real-time signals): each one is taken out of its queue
// while the threads are stopped, recorded, and queued again at once, so the
// application sees no difference; after a restart the records are queued
// again in the new process, to the same (recreated) threads.
#pragma once

#include <cstdint>

#include "runtime.h"

namespace ckpt {

void reset_pending_signals();
// In a fork child: the records and the lock are the parent's (one of its
// threads may have been in its suspend handler at the fork).
void forget_parent_pending_signals();
// In each thread's suspend handler: the signals pending for that thread,
// and (for the first thread to get there) the process-wide ones.
void save_pending_signals(int32_t slot);
// After a restart, once the threads are recreated.
void requeue_pending_signals(const Runtime& rt);

}  // namespace ckpt
