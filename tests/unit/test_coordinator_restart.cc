// A coordinator that comes back (issue 14), on the real ckpt_coordinator
// binary (coordinator_fixture.h): CmdHold keeps an --exit-on-last
// coordinator for the processes a launcher is about to start; the roster
// file names the registered processes, and a coordinator started after one
// that died expects them back, lists the missing ones in --status and
// refuses to checkpoint without them; ensure_coordinator holds one that is
// about to leave; a process that comes back with a newer committed
// generation than the dir's pushes the numbering past it.
#include <gtest/gtest.h>
#include <unistd.h>

#include "common/roster_file.h"
#include "coordinator_fixture.h"
#include "launcher/common/ensure_coordinator.h"

namespace ckpt::test {
namespace {

// Takes processes into --exit-on-last's count, as ckpt_launch's programs do.
class ExitOnLastTest : public CoordinatorTest {
 protected:
  void SetUp() override {
    extra_args_ = {"--exit-on-last"};
    CoordinatorTest::SetUp();
  }
  bool answers() {
    CoordinatorLink link;
    return link.open(settings_, secret_, proto::Role::kCommand) == LinkStatus::kOk;
  }
};

TEST_F(ExitOnLastTest, HoldKeepsItUntilAProcessRegisters) {
  {
    FakeProcess first(801, "first");
    ASSERT_EQ(first.connect(settings_, secret_), LinkStatus::kOk);
  }
  // The last process left: the coordinator goes after its 1.5 s grace
  // unless a launcher holds it.
  Reply held = command_with(proto::Msg::kCmdHold, proto::CmdHold{30});
  ASSERT_TRUE(held.ok) << held.text;
  EXPECT_EQ(held.text, "holding for 30 s");
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  ASSERT_TRUE(answers()) << "the held coordinator exited";
  // The restored process registers: the hold is over, and once it leaves
  // the coordinator exits as usual.
  {
    FakeProcess restored(801, "first");
    restored.rejoining = true;
    ASSERT_EQ(restored.connect(settings_, secret_), LinkStatus::kOk);
  }
  EXPECT_TRUE(eventually([&] { return !answers(); }, 5000)) << "still there after the hold ended";
}

// ensure_coordinator (what ckpt_launch and ckpt_restart call) in the exit
// grace: the coordinator it finds stays for the processes to come.
TEST_F(ExitOnLastTest, EnsureCoordinatorInTheExitGraceHoldsIt) {
  {
    FakeProcess first(811, "first");
    ASSERT_EQ(first.connect(settings_, secret_), LinkStatus::kOk);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // most of the 1.5 s grace
  bool started = true;
  ASSERT_EQ(ensure_coordinator(settings_, secret_, &started, coordinator_bin()), "");
  EXPECT_FALSE(started);
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  EXPECT_TRUE(answers()) << "the coordinator left although a launcher had found it";
  FakeProcess restored(811, "first");
  EXPECT_EQ(restored.connect(settings_, secret_), LinkStatus::kOk) << restored.link_.error();
}

TEST_F(CoordinatorTest, RosterFileNamesRegisteredProcesses) {
  FakeProcess a(901, "alpha"), b(902, "beta");
  ASSERT_EQ(a.connect(settings_, secret_), LinkStatus::kOk);
  ASSERT_EQ(b.connect(settings_, secret_), LinkStatus::kOk);
  ASSERT_TRUE(eventually([&] { return read_roster(dir_).size() == 2; }));
  auto roster = read_roster(dir_);
  EXPECT_EQ(roster[0].label(), "901 (alpha@testhost)");
  EXPECT_EQ(roster[0].real_pid, 100901);
  EXPECT_EQ(roster[1].label(), "902 (beta@testhost)");
  // Another host's process that hangs up has ended, as far as the
  // coordinator can tell: it leaves the roster.
  a.link_.close();
  ASSERT_TRUE(eventually([&] { return read_roster(dir_).size() == 1; }));
  b.link_.close();
  EXPECT_TRUE(eventually([&] { return !fs::exists(roster_path(dir_)); }));
}

// A coordinator started where one died (SIGKILL: the roster file stays)
// expects its processes back.
TEST_F(CoordinatorTest, NewCoordinatorWaitsForTheProcessesOfTheOldOne) {
  stop();
  std::string host = this_host_name();
  int32_t self = static_cast<int32_t>(::getpid());  // a process of this host that runs
  ASSERT_EQ(write_roster(dir_, {RosterEntry{host, self, 555, process_start_time(self), "app"},
                                RosterEntry{host, 999999, 556, 1, "gone"}}),
            "");
  start();
  Reply st = command(proto::Msg::kCmdStatus);
  ASSERT_TRUE(st.ok) << st.text;
  EXPECT_NE(st.text.find("warning: 1 process of the job runs without a coordinator"),
            std::string::npos)
      << st.text;
  EXPECT_NE(st.text.find("555   " + std::to_string(self) + "  app      " + host), std::string::npos)
      << st.text;
  EXPECT_EQ(st.text.find("gone"), std::string::npos) << st.text;
  Reply json = command(proto::Msg::kCmdStatus, 1);
  EXPECT_NE(json.text.find("\"missing\": [{\"vpid\": 555"), std::string::npos) << json.text;

  // Another process registered, but the checkpoint would leave 555 out.
  FakeProcess other(557, "other", host);
  ASSERT_EQ(other.connect(settings_, secret_), LinkStatus::kOk);
  Reply refused = command(proto::Msg::kCmdCheckpoint);
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.text.rfind("checkpoint refused: 1 process of the job runs without a "
                               "coordinator (not registered here yet",
                               0),
            0u)
      << refused.text;
  EXPECT_NE(refused.text.find("555 (app@" + host + ")"), std::string::npos) << refused.text;
  EXPECT_TRUE(generations().empty());

  // 555 comes back: status is clean, and the checkpoint takes both.
  FakeProcess back(555, "app", host);
  back.real_pid = self;
  back.rejoining = true;
  ASSERT_EQ(back.connect(settings_, secret_), LinkStatus::kOk);
  st = command(proto::Msg::kCmdStatus);
  EXPECT_EQ(st.text.find("warning"), std::string::npos) << st.text;
  EXPECT_NE(st.text.find("2 processes"), std::string::npos) << st.text;
  back.serve_one();
  other.serve_one();
  Reply done = command(proto::Msg::kCmdCheckpoint);
  back.wait();
  other.wait();
  EXPECT_TRUE(done.ok) << done.text;
  EXPECT_EQ(latest_target(), ".ckpt_gen_1");
}

// A process of the coordinator's host whose connection drops while it still
// runs is missing (after a moment: an exiting process hangs up first) until
// it registers again.
TEST_F(CoordinatorTest, ProcessThatLostItsConnectionIsMissingUntilItComesBack) {
  std::string host = this_host_name();
  int32_t self = static_cast<int32_t>(::getpid());
  FakeProcess p(560, "app", host);
  p.real_pid = self;
  ASSERT_EQ(p.connect(settings_, secret_), LinkStatus::kOk);
  p.link_.close();
  ASSERT_TRUE(eventually([&] {
    return command(proto::Msg::kCmdStatus).text.find("warning: 1 process") != std::string::npos;
  }));
  Reply refused = command(proto::Msg::kCmdCheckpoint);
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.text.find("560 (app@" + host + ")"), std::string::npos) << refused.text;

  FakeProcess back(560, "app", host);
  back.real_pid = self;
  back.rejoining = true;
  ASSERT_EQ(back.connect(settings_, secret_), LinkStatus::kOk);
  EXPECT_EQ(command(proto::Msg::kCmdStatus).text.find("warning"), std::string::npos);
  back.serve_one();
  Reply done = command(proto::Msg::kCmdCheckpoint);
  back.wait();
  EXPECT_TRUE(done.ok) << done.text;
}

TEST_F(CoordinatorTest, RejoiningProcessWithANewerGenerationMovesTheNumberingPast) {
  FakeProcess p(701, "app");
  p.rejoining = true;
  p.committed_generation = 7;  // committed under a coordinator whose dir is not this one
  ASSERT_EQ(p.connect(settings_, secret_), LinkStatus::kOk);
  p.serve_one();
  Reply r = command(proto::Msg::kCmdCheckpoint);
  p.wait();
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_EQ(r.text.rfind("checkpoint 8 committed", 0), 0u) << r.text;
  EXPECT_EQ(generations(), std::vector<int>{8});
  EXPECT_NE(read_file(log_path()).find("registered again after losing its coordinator"),
            std::string::npos);
}

}  // namespace
}  // namespace ckpt::test
