// The value an interval timer (setitimer) is re-armed with after a restart.
//
// The kernel re-arms a periodic ITIMER_REAL only when its SIGALRM is taken
// off the pending queue. Between an expiry and that moment, getitimer()
// reports 0 time remaining with the interval still set: a checkpoint taken
// while SIGALRM waits (the application's threads are stopped with signals
// blocked) sees exactly that. The signal itself is saved as pending and
// re-raised, but a re-raised signal re-arms nothing, so a timer restored
// from "0 remaining" would never fire again. It is re-armed one interval
// ahead instead, which is when the kernel would have fired it next.
#pragma once

#include <cstdint>

namespace ckpt {

// Microseconds to set as the timer's value at restart; 0 leaves it off.
constexpr int64_t itimer_rearm_value(int64_t interval_us, int64_t remaining_us) {
  if (remaining_us > 0) return remaining_us;
  return interval_us > 0 ? interval_us : 0;
}

}  // namespace ckpt
