// Timers and pending signals across a restart (see time_state.h).
#include "time_state.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>

#include <string_view>

#include "ckpt/sys.h"
#include "runtime/core/pending_signals.h"
#include "runtime/core/proc_files.h"

namespace ckpt {
namespace {

constexpr int kPrTimerCreateRestoreIds = 77;
struct KernelSigevent {
  uint64_t value;
  int32_t signo;
  int32_t notify;
  int32_t tid;
  int32_t pad[11];
};

uint64_t parse_hex(std::string_view s) {
  uint64_t v = 0;
  for (char c : s) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) break;
    v = v * 16 + d;
  }
  return v;
}

int64_t parse_int(std::string_view s) {
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') break;
    v = v * 10 + (c - '0');
  }
  return v;
}

void capture_posix_timers(SavedTimeState& st) {
  static char buf[64 * 1024];
  ByteWriter text(buf, sizeof(buf));
  st.n_timers = 0;
  if (!read_whole_file("/proc/self/timers", text)) return;
  std::string_view s(buf, text.size());
  SavedTimer* t = nullptr;
  while (!s.empty()) {
    size_t nl = s.find('\n');
    std::string_view line = s.substr(0, nl);
    s = nl == std::string_view::npos ? std::string_view() : s.substr(nl + 1);
    if (line.starts_with("ID: ") && st.n_timers < kMaxTimers) {
      t = &st.timers[st.n_timers++];
      *t = SavedTimer{};
      t->id = static_cast<int32_t>(parse_int(line.substr(4)));
    } else if (t && line.starts_with("signal: ")) {
      line.remove_prefix(8);
      size_t slash = line.find('/');
      t->signo = static_cast<int32_t>(parse_int(line));
      if (slash != std::string_view::npos) t->value = parse_hex(line.substr(slash + 1));
    } else if (t && line.starts_with("notify: ")) {
      line.remove_prefix(8);
      t->notify = line.starts_with("signal") ? SIGEV_SIGNAL
                  : line.starts_with("none") ? SIGEV_NONE
                                             : SIGEV_THREAD;
      if (line.find("/tid.") != std::string_view::npos) t->notify = SIGEV_SIGNAL | SIGEV_THREAD_ID;
      size_t dot = line.find('.');
      if (dot != std::string_view::npos)
        t->target = static_cast<int32_t>(parse_int(line.substr(dot + 1)));
    } else if (t && line.starts_with("ClockID: ")) {
      t->clock = static_cast<int32_t>(parse_int(line.substr(9)));
    }
  }
  for (int i = 0; i < st.n_timers; i++) {
    itimerspec spec = {};
    sys::call2(SYS_timer_gettime, st.timers[i].id, reinterpret_cast<long>(&spec));
    st.timers[i].interval_ns = spec.it_interval.tv_sec * 1000000000ll + spec.it_interval.tv_nsec;
    st.timers[i].remaining_ns = spec.it_value.tv_sec * 1000000000ll + spec.it_value.tv_nsec;
  }
}

int32_t new_tid_for(const Runtime& rt, int32_t stopped, int32_t old_tid) {
  for (int32_t i = 0; i < stopped; i++)
    if (rt.threads[i].prev_real_tid == old_tid) return rt.threads[i].real_tid;
  return rt.real_pid;
}

timespec to_ts(int64_t ns) {
  return {static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
}

bool restore_posix_timers(Runtime& rt, int32_t stopped, MessageString& err) {
  SavedTimeState& st = rt.time_state;
  if (st.n_timers == 0) return true;
  sys::prctl(kPrTimerCreateRestoreIds, 1, 0, 0, 0);
  bool ok = true;
  for (int i = 0; i < st.n_timers && ok; i++) {
    const SavedTimer& t = st.timers[i];
    KernelSigevent sev = {};
    sev.value = t.value;
    sev.signo = t.signo;
    sev.notify = t.notify;
    if (t.notify & SIGEV_THREAD_ID) sev.tid = new_tid_for(rt, stopped, t.target);
    int32_t id = t.id;
    long r = sys::call3(SYS_timer_create, t.clock, reinterpret_cast<long>(&sev),
                        reinterpret_cast<long>(&id));
    if (r < 0 || id != t.id) {
      err.append("cannot recreate POSIX timer ").append_int(t.id).append(": errno ").append_int(-r);
      ok = false;
      break;
    }
    itimerspec spec = {to_ts(t.interval_ns), to_ts(t.remaining_ns)};
    if (t.remaining_ns) sys::call4(SYS_timer_settime, id, 0, reinterpret_cast<long>(&spec), 0);
  }
  sys::prctl(kPrTimerCreateRestoreIds, 0, 0, 0, 0);
  return ok;
}

}  // namespace

void capture_time_state(Runtime& rt) {
  SavedTimeState& st = rt.time_state;
  for (int which = 0; which < 3; which++) {
    int64_t v[4] = {};  // interval, value as timeval
    sys::call2(SYS_getitimer, which, reinterpret_cast<long>(v));
    st.itimer[which][0] = v[0] * 1000000 + v[1];
    st.itimer[which][1] = v[2] * 1000000 + v[3];
  }
  capture_posix_timers(st);
}

bool restore_time_state(Runtime& rt, int32_t stopped, MessageString& err) {
  SavedTimeState& st = rt.time_state;
  for (int which = 0; which < 3; which++) {
    if (!st.itimer[which][1]) continue;
    int64_t v[4] = {st.itimer[which][0] / 1000000, st.itimer[which][0] % 1000000,
                    st.itimer[which][1] / 1000000, st.itimer[which][1] % 1000000};
    sys::call3(SYS_setitimer, which, reinterpret_cast<long>(v), 0);
  }
  if (!restore_posix_timers(rt, stopped, err)) return false;
  requeue_pending_signals(rt);
  return true;
}

}  // namespace ckpt
