// POSIX timers, one at a time: read from /proc/self/timers (the kernel's
// text, parsed without allocation) and recreated with the same id
// (PR_TIMER_CREATE_RESTORE_IDS). time_state.cc drives them for a process.
#pragma once

#include <string_view>

#include "runtime/core/fixed_string.h"
#include "runtime/core/runtime.h"

namespace ckpt {

// Fills out[0..*n) from the text of /proc/self/timers (id, signal and
// value, notification and target, clock; not the times). False, naming the
// bound, when the process has more than `cap` timers.
bool parse_proc_timers(std::string_view text, SavedTimer* out, int cap, int* n, MessageString& err);

// Reads the interval and the remaining time of the live timer t.id.
void read_timer_times(SavedTimer& t);

// Creates timer t.id again, signalling `tid` when it signals a thread, and
// arms it with its remaining time. The caller has turned
// PR_TIMER_CREATE_RESTORE_IDS on (set_timer_restore_ids).
bool recreate_timer(const SavedTimer& t, int32_t tid, MessageString& err);

// Turns the kernel's "create with this id" mode on or off.
void set_timer_restore_ids(bool on);

}  // namespace ckpt
