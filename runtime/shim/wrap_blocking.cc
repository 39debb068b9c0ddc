// Blocking calls that the kernel ends with EINTR when a signal handler runs,
// whatever SA_RESTART says (nanosleep, poll, epoll_wait, select, ...). The
// runtime's suspend signal must stay invisible, so when a checkpoint (and
// not the application's own signal) interrupted the call, it is made again
// with the time that remains. The deadline lives in the thread's runtime
// state, which the suspend handler moves across a restart.
#include <errno.h>
#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "real_functions.h"
#include "runtime/core/runtime.h"
#include "runtime/core/thread_local_state.h"

using ckpt::monotonic_ns;
using ckpt::real;
using ckpt::t_state;

namespace {

constexpr int64_t kNs = 1000000000;

// Sets the thread's deadline for one blocking call and restores the
// previous one (a handler may nest a call).
class Deadline {
 public:
  explicit Deadline(int64_t relative_ns) : saved_(t_state.deadline_ns) {
    t_state.deadline_ns = relative_ns < 0 ? 0 : monotonic_ns() + relative_ns;
    if (relative_ns >= 0 && t_state.deadline_ns == 0) t_state.deadline_ns = 1;
  }
  ~Deadline() { t_state.deadline_ns = saved_; }
  bool forever() const { return t_state.deadline_ns == 0; }
  int64_t left_ns() const {
    int64_t left = t_state.deadline_ns - monotonic_ns();
    return left > 0 ? left : 0;
  }
  timespec left_ts() const {
    int64_t l = left_ns();
    return {static_cast<time_t>(l / kNs), static_cast<long>(l % kNs)};
  }
  int left_ms() const {
    if (forever()) return -1;
    return static_cast<int>((left_ns() + 999999) / 1000000);
  }

 private:
  int64_t saved_;
};

int64_t to_ns(const timespec* ts) { return ts ? ts->tv_sec * kNs + ts->tv_nsec : -1; }

// True when the last EINTR came from a checkpoint rather than a real signal.
bool checkpoint_interrupted(uint32_t before, int result_errno) {
  return result_errno == EINTR && t_state.ckpt_interrupts != before && ckpt::runtime().ready;
}

}  // namespace

CKPT_WRAPPER int nanosleep(const timespec* req, timespec* rem) {
  if (!req) return real().nanosleep(req, rem);
  Deadline d(to_ns(req));
  for (;;) {
    uint32_t before = t_state.ckpt_interrupts;
    timespec left = d.left_ts();
    int r = real().nanosleep(&left, rem);
    if (r == 0 || !checkpoint_interrupted(before, errno)) return r;
    if (d.left_ns() == 0) return 0;
  }
}

CKPT_WRAPPER int clock_nanosleep(clockid_t clock, int flags, const timespec* req, timespec* rem) {
  if (!req) return real().clock_nanosleep(clock, flags, req, rem);
  bool absolute = flags & TIMER_ABSTIME;
  Deadline d(absolute ? -1 : to_ns(req));
  for (;;) {
    uint32_t before = t_state.ckpt_interrupts;
    timespec left = absolute ? *req : d.left_ts();
    int r = real().clock_nanosleep(clock, flags, &left, rem);
    if (r != EINTR || t_state.ckpt_interrupts == before) return r;
    if (!absolute && d.left_ns() == 0) return 0;
  }
}

CKPT_WRAPPER unsigned int sleep(unsigned int seconds) {
  timespec req = {static_cast<time_t>(seconds), 0}, rem = {0, 0};
  if (nanosleep(&req, &rem) == 0) return 0;
  return static_cast<unsigned int>(rem.tv_sec + (rem.tv_nsec ? 1 : 0));
}

CKPT_WRAPPER int usleep(useconds_t usec) {
  timespec req = {static_cast<time_t>(usec / 1000000), static_cast<long>(usec % 1000000) * 1000};
  return nanosleep(&req, nullptr);
}

CKPT_WRAPPER int poll(pollfd* fds, nfds_t n, int timeout_ms) {
  Deadline d(timeout_ms < 0 ? -1 : static_cast<int64_t>(timeout_ms) * 1000000);
  for (;;) {
    uint32_t before = t_state.ckpt_interrupts;
    int r = real().poll(fds, n, d.left_ms());
    if (r >= 0 || !checkpoint_interrupted(before, errno)) return r;
  }
}

CKPT_WRAPPER int ppoll(pollfd* fds, nfds_t n, const timespec* tmo, const sigset_t* mask) {
  Deadline d(to_ns(tmo));
  for (;;) {
    uint32_t before = t_state.ckpt_interrupts;
    timespec left = d.left_ts();
    int r = real().ppoll(fds, n, d.forever() ? nullptr : &left, mask);
    if (r >= 0 || !checkpoint_interrupted(before, errno)) return r;
  }
}

CKPT_WRAPPER int select(int nfds, fd_set* r, fd_set* w, fd_set* e, timeval* tv) {
  Deadline d(tv ? tv->tv_sec * kNs + tv->tv_usec * 1000 : -1);
  for (;;) {
    uint32_t before = t_state.ckpt_interrupts;
    timeval left;
    if (tv) {
      int64_t l = d.left_ns();
      left = {static_cast<time_t>(l / kNs), static_cast<suseconds_t>(l % kNs / 1000)};
    }
    int res = real().select(nfds, r, w, e, tv ? &left : nullptr);
    if (tv) *tv = left;
    if (res >= 0 || !checkpoint_interrupted(before, errno)) return res;
  }
}

CKPT_WRAPPER int pselect(int nfds, fd_set* r, fd_set* w, fd_set* e, const timespec* tmo,
                         const sigset_t* mask) {
  Deadline d(to_ns(tmo));
  for (;;) {
    uint32_t before = t_state.ckpt_interrupts;
    timespec left = d.left_ts();
    int res = real().pselect(nfds, r, w, e, d.forever() ? nullptr : &left, mask);
    if (res >= 0 || !checkpoint_interrupted(before, errno)) return res;
  }
}

CKPT_WRAPPER int epoll_wait(int epfd, epoll_event* events, int max, int timeout_ms) {
  Deadline d(timeout_ms < 0 ? -1 : static_cast<int64_t>(timeout_ms) * 1000000);
  for (;;) {
    uint32_t before = t_state.ckpt_interrupts;
    int r = real().epoll_wait(epfd, events, max, d.left_ms());
    if (r >= 0 || !checkpoint_interrupted(before, errno)) return r;
  }
}

CKPT_WRAPPER int epoll_pwait(int epfd, epoll_event* events, int max, int timeout_ms,
                             const sigset_t* mask) {
  Deadline d(timeout_ms < 0 ? -1 : static_cast<int64_t>(timeout_ms) * 1000000);
  for (;;) {
    uint32_t before = t_state.ckpt_interrupts;
    int r = real().epoll_pwait(epfd, events, max, d.left_ms(), mask);
    if (r >= 0 || !checkpoint_interrupted(before, errno)) return r;
  }
}

CKPT_WRAPPER int sem_timedwait(sem_t* sem, const timespec* abstime) {
  for (;;) {
    uint32_t before = t_state.ckpt_interrupts;
    int r = real().sem_timedwait(sem, abstime);
    if (r == 0 || !checkpoint_interrupted(before, errno)) return r;
  }
}

CKPT_WRAPPER int sigsuspend(const sigset_t* mask) {
  for (;;) {
    uint32_t before = t_state.ckpt_interrupts;
    int r = real().sigsuspend(mask);
    if (!checkpoint_interrupted(before, errno)) return r;
  }
}

CKPT_WRAPPER int pause() {
  for (;;) {
    uint32_t before = t_state.ckpt_interrupts;
    int r = real().pause();
    if (!checkpoint_interrupted(before, errno)) return r;
  }
}
