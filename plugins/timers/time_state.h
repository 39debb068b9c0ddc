// Timers and pending signals: captured while the application's threads are
// stopped, re-armed with their remaining time and re-raised after a restart.
//   - interval timers (setitimer/alarm): ITIMER_REAL, _VIRTUAL, _PROF;
//   - POSIX timers (timer_create), read from /proc/self/timers and recreated
//     with the same ids (PR_TIMER_CREATE_RESTORE_IDS), targeting the
//     recreated thread when they signal a thread (SIGEV_THREAD_ID, which is
//     also how glibc implements SIGEV_THREAD);
//   - pending signals, process-wide and per thread (pending_signals.h).
#pragma once

#include "runtime/core/fixed_string.h"
#include "runtime/core/runtime.h"

namespace ckpt {

// False when the process holds more timers than the runtime saves.
bool capture_time_state(Runtime& rt, MessageString& err);
// After recreate_threads(), before the threads resume.
bool restore_time_state(Runtime& rt, int32_t stopped_threads, MessageString& err);

}  // namespace ckpt
