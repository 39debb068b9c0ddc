// POSIX timers (posix_timers.h): the /proc/self/timers parser on the
// kernel's text, its bound, and a capture -> delete -> recreate round trip
// in this process that gives back the same id, signal, value and times.
#include <signal.h>
#include <time.h>

#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "posix_timers.h"

namespace ckpt {
namespace {

constexpr char kText[] =
    "ID: 0\n"
    "signal: 14/0000000000000000\n"
    "notify: signal/pid.4242\n"
    "ClockID: 0\n"
    "ID: 3\n"
    "signal: 34/00007f00deadbeef\n"
    "notify: signal/tid.4243\n"
    "ClockID: 1\n"
    "ID: 5\n"
    "signal: 0/0000000000000000\n"
    "notify: none/pid.4242\n"
    "ClockID: 2\n";

TEST(PosixTimers, ParsesTheKernelsText) {
  SavedTimer t[4];
  int n = 0;
  MessageString err;
  ASSERT_TRUE(parse_proc_timers(kText, t, 4, &n, err));
  ASSERT_EQ(n, 3);
  EXPECT_EQ(t[0].id, 0);
  EXPECT_EQ(t[0].signo, SIGALRM);
  EXPECT_EQ(t[0].notify, SIGEV_SIGNAL);
  EXPECT_EQ(t[0].target, 4242);
  EXPECT_EQ(t[0].clock, CLOCK_REALTIME);
  EXPECT_EQ(t[1].id, 3);
  EXPECT_EQ(t[1].signo, 34);
  EXPECT_EQ(t[1].value, 0x7f00deadbeefull);
  EXPECT_EQ(t[1].notify, SIGEV_SIGNAL | SIGEV_THREAD_ID);
  EXPECT_EQ(t[1].target, 4243);
  EXPECT_EQ(t[1].clock, CLOCK_MONOTONIC);
  EXPECT_EQ(t[2].notify, SIGEV_NONE);
  EXPECT_EQ(t[2].clock, CLOCK_PROCESS_CPUTIME_ID);
}

TEST(PosixTimers, MoreThanTheBoundFailsNamingIt) {
  SavedTimer t[2];
  int n = 0;
  MessageString err;
  EXPECT_FALSE(parse_proc_timers(kText, t, 2, &n, err));
  EXPECT_EQ(std::string(err.view()), "more than 2 POSIX timers: not supported");
}

std::string read_proc_timers() {
  std::ifstream in("/proc/self/timers");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The saved timer of id `id` in this process, read as the capture reads it.
bool capture_one(timer_t id, SavedTimer* out) {
  SavedTimer t[64];
  int n = 0;
  MessageString err;
  std::string text = read_proc_timers();
  if (!parse_proc_timers(text, t, 64, &n, err)) return false;
  for (int i = 0; i < n; i++)
    if (t[i].id == static_cast<int32_t>(reinterpret_cast<intptr_t>(id))) {
      *out = t[i];
      read_timer_times(*out);
      return true;
    }
  return false;
}

TEST(PosixTimers, CaptureDeleteRecreateRoundTrip) {
  sigevent sev = {};
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGRTMIN + 3;
  sev.sigev_value.sival_ptr = reinterpret_cast<void*>(0x1234abcd);
  timer_t id;
  ASSERT_EQ(timer_create(CLOCK_MONOTONIC, &sev, &id), 0);
  // Blocked and far off: the timer never fires during the test.
  itimerspec spec = {{7, 500}, {3600, 0}};
  ASSERT_EQ(timer_settime(id, 0, &spec, nullptr), 0);

  SavedTimer saved;
  ASSERT_TRUE(capture_one(id, &saved)) << read_proc_timers();
  EXPECT_EQ(saved.signo, SIGRTMIN + 3);
  EXPECT_EQ(saved.value, 0x1234abcdull);
  EXPECT_EQ(saved.clock, CLOCK_MONOTONIC);
  EXPECT_EQ(saved.interval_ns, 7000000500ll);
  EXPECT_GT(saved.remaining_ns, 3500ll * 1000000000);

  ASSERT_EQ(timer_delete(id), 0);
  MessageString err;
  set_timer_restore_ids(true);
  bool ok = recreate_timer(saved, 0, err);
  set_timer_restore_ids(false);
  ASSERT_TRUE(ok) << err.view();

  SavedTimer back;
  ASSERT_TRUE(capture_one(id, &back)) << read_proc_timers();
  EXPECT_EQ(back.id, saved.id);
  EXPECT_EQ(back.signo, saved.signo);
  EXPECT_EQ(back.value, saved.value);
  EXPECT_EQ(back.notify, saved.notify);
  EXPECT_EQ(back.clock, saved.clock);
  EXPECT_EQ(back.interval_ns, saved.interval_ns);
  EXPECT_LE(back.remaining_ns, saved.remaining_ns);
  EXPECT_GT(back.remaining_ns, saved.remaining_ns - 60ll * 1000000000);
  timer_delete(id);
}

}  // namespace
}  // namespace ckpt
