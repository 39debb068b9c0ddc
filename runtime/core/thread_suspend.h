// Stopping and resuming the application's threads around a checkpoint, and
// bringing them back as new kernel tasks after a restart.
//
// Each application thread is stopped by kSuspendSignal. Its handler saves a
// resume point and waits on a futex; the signal frame on the thread's stack
// holds every register, the FPU/AVX state and the signal mask, so resuming
// (now or after a restart) is a plain return from the handler: sigreturn
// puts all of it back.
#pragma once

#include "fixed_string.h"
#include "runtime.h"

namespace ckpt {

void install_suspend_handler();
// The calling thread cannot be stopped until restore_signal_mask(old): for
// a thread that holds something the checkpoint thread needs. Returns the
// mask before (raw, the kernel's).
uint64_t block_suspend_signal();
void restore_signal_mask(uint64_t old);
// Stop every thread except the runtime's own. On failure (a thread that
// does not stop), resumes those that did and explains in err.
bool suspend_all_threads(Runtime& rt, MessageString& err);
void resume_all_threads(Runtime& rt);
// How many threads the last suspend stopped.
int32_t stopped_thread_count();
// After a restart, on the checkpoint thread: clone a task for each stopped
// thread and wait until each is back in its handler.
bool recreate_threads(Runtime& rt, MessageString& err);
// Per-task kernel state glibc expects (tid address, robust list, rseq), for
// the calling task whose thread pointer is fs_base.
void register_task_state(const Runtime& rt, uint64_t fs_base);
// Runtime worker threads are not application threads.
void add_runtime_tid(int32_t tid);
void remove_runtime_tid(int32_t tid);
// In a fork child: the parent may have been stopping its threads at the
// fork (one of them in its suspend handler); none of that is the child's.
void forget_parent_suspend();

}  // namespace ckpt
