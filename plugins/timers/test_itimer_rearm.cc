// Interval timers (itimer_rearm.h): the kernel fact the rule rests on (a
// periodic ITIMER_REAL whose SIGALRM is pending reads 0 remaining, interval
// set) and the value a restart re-arms it with.
#include <signal.h>
#include <sys/time.h>
#include <time.h>

#include "gtest/gtest.h"
#include "itimer_rearm.h"

namespace ckpt {
namespace {

TEST(ItimerRearm, KeepsWhatRemains) { EXPECT_EQ(itimer_rearm_value(50000, 1234), 1234); }

TEST(ItimerRearm, APeriodicTimerWaitingOnItsSignalGoesOneIntervalAhead) {
  EXPECT_EQ(itimer_rearm_value(50000, 0), 50000);
}

TEST(ItimerRearm, AStoppedTimerStaysStopped) { EXPECT_EQ(itimer_rearm_value(0, 0), 0); }

TEST(ItimerRearm, TheKernelReportsZeroWhileSigalrmIsPending) {
  sigset_t alrm, old;
  sigemptyset(&alrm);
  sigaddset(&alrm, SIGALRM);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &alrm, &old), 0);
  itimerval every_5ms = {{0, 5000}, {0, 5000}};
  ASSERT_EQ(setitimer(ITIMER_REAL, &every_5ms, nullptr), 0);
  timespec wait = {0, 30 * 1000 * 1000};
  nanosleep(&wait, nullptr);
  itimerval now = {};
  ASSERT_EQ(getitimer(ITIMER_REAL, &now), 0);
  itimerval off = {};
  setitimer(ITIMER_REAL, &off, nullptr);
  siginfo_t info;
  timespec zero = {0, 0};
  sigtimedwait(&alrm, &info, &zero);  // the pending SIGALRM
  pthread_sigmask(SIG_SETMASK, &old, nullptr);

  EXPECT_EQ(now.it_value.tv_sec, 0);
  EXPECT_EQ(now.it_value.tv_usec, 0);
  EXPECT_EQ(now.it_interval.tv_usec, 5000);
  int64_t remaining = now.it_value.tv_sec * 1000000 + now.it_value.tv_usec;
  EXPECT_EQ(itimer_rearm_value(5000, remaining), 5000);
}

}  // namespace
}  // namespace ckpt
