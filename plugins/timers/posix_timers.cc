// POSIX timers read from /proc/self/timers and recreated (see posix_timers.h).
#include "posix_timers.h"

#include <signal.h>
#include <sys/syscall.h>
#include <time.h>

#include "ckpt/sys.h"
#include "common/hex.h"

namespace ckpt {
namespace {

constexpr int kPrTimerCreateRestoreIds = 77;

// The kernel's struct sigevent, as timer_create takes it.
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
    int d = hex_digit(c);
    if (d < 0) break;
    v = v * 16 + static_cast<uint64_t>(d);
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

// "signal: 10/00000000deadbeef": the signal and the sigev_value.
void parse_signal(std::string_view line, SavedTimer& t) {
  size_t slash = line.find('/');
  t.signo = static_cast<int32_t>(parse_int(line));
  if (slash != std::string_view::npos) t.value = parse_hex(line.substr(slash + 1));
}

// "notify: signal/pid.123", "thread/tid.124", "none/pid.123".
void parse_notify(std::string_view line, SavedTimer& t) {
  t.notify = line.starts_with("signal") ? SIGEV_SIGNAL
             : line.starts_with("none") ? SIGEV_NONE
                                        : SIGEV_THREAD;
  if (line.find("/tid.") != std::string_view::npos) t.notify = SIGEV_SIGNAL | SIGEV_THREAD_ID;
  size_t dot = line.find('.');
  if (dot != std::string_view::npos)
    t.target = static_cast<int32_t>(parse_int(line.substr(dot + 1)));
}

timespec to_ts(int64_t ns) {
  return {static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
}

}  // namespace

bool parse_proc_timers(std::string_view s, SavedTimer* out, int cap, int* n, MessageString& err) {
  *n = 0;
  SavedTimer* t = nullptr;
  while (!s.empty()) {
    size_t nl = s.find('\n');
    std::string_view line = s.substr(0, nl);
    s = nl == std::string_view::npos ? std::string_view() : s.substr(nl + 1);
    if (line.starts_with("ID: ")) {
      if (*n == cap) {
        err.append("more than ").append_int(cap).append(" POSIX timers: not supported");
        return false;
      }
      t = &out[(*n)++];
      *t = SavedTimer{};
      t->id = static_cast<int32_t>(parse_int(line.substr(4)));
    } else if (t && line.starts_with("signal: ")) {
      parse_signal(line.substr(8), *t);
    } else if (t && line.starts_with("notify: ")) {
      parse_notify(line.substr(8), *t);
    } else if (t && line.starts_with("ClockID: ")) {
      t->clock = static_cast<int32_t>(parse_int(line.substr(9)));
    }
  }
  return true;
}

void read_timer_times(SavedTimer& t) {
  itimerspec spec = {};
  sys::call2(SYS_timer_gettime, t.id, reinterpret_cast<long>(&spec));
  t.interval_ns = spec.it_interval.tv_sec * 1000000000ll + spec.it_interval.tv_nsec;
  t.remaining_ns = spec.it_value.tv_sec * 1000000000ll + spec.it_value.tv_nsec;
}

bool recreate_timer(const SavedTimer& t, int32_t tid, MessageString& err) {
  KernelSigevent sev = {};
  sev.value = t.value;
  sev.signo = t.signo;
  sev.notify = t.notify;
  if (t.notify & SIGEV_THREAD_ID) sev.tid = tid;
  int32_t id = t.id;
  long r = sys::call3(SYS_timer_create, t.clock, reinterpret_cast<long>(&sev),
                      reinterpret_cast<long>(&id));
  if (r < 0 || id != t.id) {
    err.append("cannot recreate POSIX timer ").append_int(t.id).append(": errno ").append_int(-r);
    return false;
  }
  itimerspec spec = {to_ts(t.interval_ns), to_ts(t.remaining_ns)};
  if (t.remaining_ns) sys::call4(SYS_timer_settime, id, 0, reinterpret_cast<long>(&spec), 0);
  return true;
}

void set_timer_restore_ids(bool on) { sys::prctl(kPrTimerCreateRestoreIds, on ? 1 : 0, 0, 0, 0); }

}  // namespace ckpt
