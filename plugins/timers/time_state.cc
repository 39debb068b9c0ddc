// Timers and pending signals across a restart (see time_state.h).
#include "time_state.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>

#include <string_view>

#include "ckpt/sys.h"
#include "itimer_rearm.h"
#include "posix_timers.h"
#include "runtime/core/pending_signals.h"
#include "runtime/core/proc_files.h"

namespace ckpt {
namespace {

// The POSIX timers of the process; false past kMaxTimers.
bool capture_posix_timers(SavedTimeState& st, MessageString& err) {
  static char buf[64 * 1024];
  ByteWriter text(buf, sizeof(buf));
  st.n_timers = 0;
  if (!read_whole_file("/proc/self/timers", text)) return true;
  if (!parse_proc_timers(std::string_view(buf, text.size()), st.timers, kMaxTimers, &st.n_timers,
                         err))
    return false;
  for (int i = 0; i < st.n_timers; i++) read_timer_times(st.timers[i]);
  return true;
}

int32_t new_tid_for(const Runtime& rt, int32_t stopped, int32_t old_tid) {
  for (int32_t i = 0; i < stopped; i++)
    if (rt.threads[i].prev_real_tid == old_tid) return rt.threads[i].real_tid;
  return rt.real_pid;
}

bool restore_posix_timers(Runtime& rt, int32_t stopped, MessageString& err) {
  SavedTimeState& st = rt.time_state;
  if (st.n_timers == 0) return true;
  set_timer_restore_ids(true);
  bool ok = true;
  for (int i = 0; i < st.n_timers && ok; i++)
    ok = recreate_timer(st.timers[i], new_tid_for(rt, stopped, st.timers[i].target), err);
  set_timer_restore_ids(false);
  return ok;
}

}  // namespace

bool capture_time_state(Runtime& rt, MessageString& err) {
  SavedTimeState& st = rt.time_state;
  for (int which = 0; which < 3; which++) {
    int64_t v[4] = {};  // interval, value as timeval
    sys::call2(SYS_getitimer, which, reinterpret_cast<long>(v));
    st.itimer[which][0] = v[0] * 1000000 + v[1];
    st.itimer[which][1] = v[2] * 1000000 + v[3];
  }
  return capture_posix_timers(st, err);
}

bool restore_time_state(Runtime& rt, int32_t stopped, MessageString& err) {
  SavedTimeState& st = rt.time_state;
  for (int which = 0; which < 3; which++) {
    int64_t value = itimer_rearm_value(st.itimer[which][0], st.itimer[which][1]);
    if (!value) continue;
    int64_t v[4] = {st.itimer[which][0] / 1000000, st.itimer[which][0] % 1000000, value / 1000000,
                    value % 1000000};
    sys::call3(SYS_setitimer, which, reinterpret_cast<long>(v), 0);
  }
  if (!restore_posix_timers(rt, stopped, err)) return false;
  requeue_pending_signals(rt);
  return true;
}

}  // namespace ckpt
