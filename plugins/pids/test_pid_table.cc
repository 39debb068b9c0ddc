// PidTable (runtime/core/pid_table.h) and the pure translations of pid
// arguments, results, siginfo and /proc paths (runtime/core/pid_translate.h)
// that the shim's wrappers are made of.
#include <signal.h>
#include <sys/wait.h>

#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "pid_table.h"
#include "pid_translate.h"

namespace ckpt {
namespace {

// The table is 128 KiB: keep it off the test's stack.
std::unique_ptr<PidTable> make_table() { return std::make_unique<PidTable>(); }

TEST(PidTable, EmptyIsIdentity) {
  auto t = make_table();
  EXPECT_TRUE(t->empty());
  EXPECT_EQ(t->to_real(1234), 1234);
  EXPECT_EQ(t->to_virtual(1234), 1234);
  EXPECT_EQ(t->to_real(0), 0);
  EXPECT_EQ(t->to_real(-1), -1);
  EXPECT_FALSE(t->is_virtual_in_use(1234));
}

TEST(PidTable, TranslatesBothWays) {
  auto t = make_table();
  ASSERT_TRUE(t->add(100, 200));
  ASSERT_TRUE(t->add(101, 300));
  EXPECT_FALSE(t->empty());
  EXPECT_EQ(t->to_real(100), 200);
  EXPECT_EQ(t->to_real(101), 300);
  EXPECT_EQ(t->to_virtual(200), 100);
  EXPECT_EQ(t->to_virtual(300), 101);
  EXPECT_EQ(t->to_real(102), 102);  // unknown: identity
  EXPECT_EQ(t->to_virtual(102), 102);
  EXPECT_EQ(t->size(), 2);
}

TEST(PidTable, IdentityPairsStayEmpty) {
  auto t = make_table();
  EXPECT_TRUE(t->add(55, 55));
  t->set_self(7, 7);
  EXPECT_TRUE(t->empty());
  EXPECT_FALSE(t->add(0, 5));
  EXPECT_FALSE(t->add(5, -1));
  EXPECT_TRUE(t->empty());
}

TEST(PidTable, SelfIsAnsweredWithoutAnEntry) {
  auto t = make_table();
  t->set_self(100, 4000);
  EXPECT_FALSE(t->empty());
  EXPECT_EQ(t->to_real(100), 4000);
  EXPECT_EQ(t->to_virtual(4000), 100);
  EXPECT_EQ(t->size(), 0);
  // A fork child: its own pid is its virtual one again.
  t->set_self(4100, 4100);
  EXPECT_TRUE(t->empty());
  EXPECT_EQ(t->to_real(100), 100);
}

TEST(PidTable, SelfWinsOverAStaleEntry) {
  auto t = make_table();
  ASSERT_TRUE(t->add(100, 4000));  // a process that has exited
  t->set_self(4000, 4000);         // a new process got its real pid
  EXPECT_EQ(t->to_virtual(4000), 4000);
  EXPECT_EQ(t->to_real(4000), 4000);
}

TEST(PidTable, ReplacingAPairDropsTheOldReverse) {
  auto t = make_table();
  ASSERT_TRUE(t->add(100, 200));
  ASSERT_TRUE(t->add(100, 250));  // restored again elsewhere
  EXPECT_EQ(t->to_real(100), 250);
  EXPECT_EQ(t->to_virtual(250), 100);
  EXPECT_EQ(t->to_virtual(200), 200);  // no longer anyone's
  ASSERT_TRUE(t->add(101, 250));       // the real pid now belongs to another
  EXPECT_EQ(t->to_virtual(250), 101);
  EXPECT_EQ(t->to_real(100), 100);
  ASSERT_TRUE(t->add(101, 101));  // back to its own pid
  EXPECT_EQ(t->to_real(101), 101);
  EXPECT_EQ(t->to_virtual(250), 250);
}

TEST(PidTable, ConflictsWithAVirtualPidInUse) {
  auto t = make_table();
  ASSERT_TRUE(t->add(100, 200));
  // A fork whose real pid is 100 would clash with the process known as 100.
  EXPECT_TRUE(t->is_virtual_in_use(100));
  EXPECT_FALSE(t->is_virtual_in_use(200));
  EXPECT_FALSE(t->is_virtual_in_use(300));
}

TEST(PidTable, ClearForgetsEverything) {
  auto t = make_table();
  ASSERT_TRUE(t->add(100, 200));
  t->set_self(5, 6);
  t->clear();
  EXPECT_TRUE(t->empty());
  EXPECT_EQ(t->to_real(100), 100);
  EXPECT_EQ(t->to_real(5), 5);
  EXPECT_EQ(t->size(), 0);
}

TEST(PidTable, HoldsItsCapacityThenRefuses) {
  auto t = make_table();
  // Dense pids, the worst case for a hash of consecutive keys.
  for (int i = 0; i < kMaxPidMappings; i++) ASSERT_TRUE(t->add(1000 + i, 500000 + i)) << i;
  EXPECT_FALSE(t->add(999, 1));
  EXPECT_TRUE(t->add(1000, 600000));  // replacing still works
  for (int i = 1; i < kMaxPidMappings; i++) {
    ASSERT_EQ(t->to_real(1000 + i), 500000 + i);
    ASSERT_EQ(t->to_virtual(500000 + i), 1000 + i);
  }
  EXPECT_EQ(t->to_real(1000), 600000);
  EXPECT_EQ(t->to_real(999), 999);
}

TEST(PidTable, ReadersNeverSeeATornPair) {
  auto t = make_table();
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop.load()) {
      for (int v = 1; v <= 500; v++) {
        int32_t r = t->to_real(v);
        ASSERT_TRUE(r == v || r == v + 100000) << v << " -> " << r;
      }
    }
  });
  for (int v = 1; v <= 500; v++) ASSERT_TRUE(t->add(v, v + 100000));
  stop.store(true);
  reader.join();
}

TEST(PidTranslate, KillAndWaitArguments) {
  auto t = make_table();
  ASSERT_TRUE(t->add(100, 200));
  EXPECT_EQ(pid_arg_to_real(100, *t), 200);
  EXPECT_EQ(pid_arg_to_real(-100, *t), -200);  // the group led by 100
  EXPECT_EQ(pid_arg_to_real(0, *t), 0);
  EXPECT_EQ(pid_arg_to_real(-1, *t), -1);
  EXPECT_EQ(pid_arg_to_real(INT32_MIN, *t), INT32_MIN);
  EXPECT_EQ(pid_arg_to_real(101, *t), 101);
  EXPECT_EQ(pid_result_to_virtual(200, *t), 100);
  EXPECT_EQ(pid_result_to_virtual(0, *t), 0);
  EXPECT_EQ(pid_result_to_virtual(-1, *t), -1);
}

TEST(PidTranslate, WaitidArguments) {
  auto t = make_table();
  ASSERT_TRUE(t->add(100, 200));
  EXPECT_EQ(waitid_id_to_real(P_PID, 100, *t), 200u);
  EXPECT_EQ(waitid_id_to_real(P_PGID, 100, *t), 200u);
  EXPECT_EQ(waitid_id_to_real(P_PGID, 0, *t), 0u);
  EXPECT_EQ(waitid_id_to_real(P_ALL, 100, *t), 100u);
  EXPECT_EQ(waitid_id_to_real(P_PIDFD, 100, *t), 100u);  // an fd, not a pid
}

TEST(PidTranslate, SiginfoCarriesAPidOnlyForSomeCodes) {
  auto t = make_table();
  ASSERT_TRUE(t->add(100, 200));
  siginfo_t info = {};
  info.si_signo = SIGCHLD;
  info.si_code = CLD_EXITED;
  info.si_pid = 200;
  siginfo_to_virtual(&info, *t);
  EXPECT_EQ(info.si_pid, 100);

  info = {};
  info.si_signo = SIGUSR1;
  info.si_code = SI_QUEUE;
  info.si_pid = 200;
  siginfo_to_virtual(&info, *t);
  EXPECT_EQ(info.si_pid, 100);

  info = {};  // a fault: the field is si_addr's
  info.si_signo = SIGSEGV;
  info.si_code = SEGV_MAPERR;
  info.si_pid = 200;
  siginfo_to_virtual(&info, *t);
  EXPECT_EQ(info.si_pid, 200);
  siginfo_to_virtual(nullptr, *t);
}

std::string proc_path(const char* in, const PidTable& t, size_t n = 256) {
  char buf[256];
  std::memset(buf, 'x', sizeof(buf));
  const char* out = translate_proc_path(in, buf, n, t);
  if (out != in && out != buf) return "<bad pointer>";
  return out == in ? std::string("=") + in : std::string(out);
}

TEST(PidTranslate, ProcPaths) {
  auto t = make_table();
  ASSERT_TRUE(t->add(100, 123456));
  EXPECT_EQ(proc_path("/proc/100/status", *t), "/proc/123456/status");
  EXPECT_EQ(proc_path("/proc/100", *t), "/proc/123456");
  EXPECT_EQ(proc_path("/proc/100/", *t), "/proc/123456/");
  EXPECT_EQ(proc_path("/proc/100/task/100/stat", *t), "/proc/123456/task/100/stat");
  EXPECT_EQ(proc_path("/proc/101/status", *t), "=/proc/101/status");
  EXPECT_EQ(proc_path("/proc/self/status", *t), "=/proc/self/status");
  EXPECT_EQ(proc_path("/proc/1000/status", *t), "=/proc/1000/status");
  EXPECT_EQ(proc_path("/proc/10/status", *t), "=/proc/10/status");
  EXPECT_EQ(proc_path("/proc/100abc", *t), "=/proc/100abc");
  EXPECT_EQ(proc_path("/proc/0100/stat", *t), "=/proc/0100/stat");
  EXPECT_EQ(proc_path("/proc/99999999999/stat", *t), "=/proc/99999999999/stat");
  EXPECT_EQ(proc_path("/proc/", *t), "=/proc/");
  EXPECT_EQ(proc_path("/proc", *t), "=/proc");
  EXPECT_EQ(proc_path("proc/100/stat", *t), "=proc/100/stat");
  EXPECT_EQ(proc_path("/tmp/100", *t), "=/tmp/100");
  EXPECT_EQ(proc_path("", *t), "=");
  // Exactly fits ("/proc/123456/stat" + NUL = 18), then one byte short.
  EXPECT_EQ(proc_path("/proc/100/stat", *t, 18), "/proc/123456/stat");
  EXPECT_EQ(proc_path("/proc/100/stat", *t, 17), "=/proc/100/stat");
  EXPECT_EQ(translate_proc_path(nullptr, nullptr, 0, *t), nullptr);
}

TEST(PidTranslate, ProcPathOfTheProcessItself) {
  auto t = make_table();
  t->set_self(100, 7);
  EXPECT_EQ(proc_path("/proc/100/maps", *t), "/proc/7/maps");
}

}  // namespace
}  // namespace ckpt
