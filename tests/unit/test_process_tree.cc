// The coordinator with process trees (coordinator_fixture.h drives the real
// binary): the Snapshot phase between Suspend and Write, processes that
// register while the others are suspending (forked children), exec
// (Execing, then a successor with the same vpid), and processes outside
// the computation in the status.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coordinator_fixture.h"

namespace ckpt::test {
namespace {

// Index of the first event equal to `what`, or the end.
size_t first(const std::vector<std::string>& events, const std::string& what) {
  return std::find(events.begin(), events.end(), what) - events.begin();
}
size_t last(const std::vector<std::string>& events, const std::string& what) {
  auto it = std::find(events.rbegin(), events.rend(), what);
  return it == events.rend() ? events.size() : events.rend() - it - 1;
}

// Snapshot goes to nobody before every process answered Suspend, and Write
// to nobody before every process answered Snapshot.
TEST_F(CoordinatorTest, SnapshotComesBetweenEverySuspendedAndWrite) {
  EventLog log;
  FakeProcess a(1001, "alpha"), b(1002, "beta");
  a.events = b.events = &log;
  ASSERT_EQ(a.connect(settings_, secret_), LinkStatus::kOk);
  ASSERT_EQ(b.connect(settings_, secret_), LinkStatus::kOk);
  a.serve_one();
  b.serve_one("", false, 1, /*delay_ms=*/300);  // the slow one
  Reply r = command(proto::Msg::kCmdCheckpoint);
  a.wait();
  b.wait();
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_EQ(r.text.rfind("checkpoint 1 committed: 2 images", 0), 0u) << r.text;
  EXPECT_EQ(a.snapshot_generation, 1u);
  EXPECT_EQ(b.snapshot_generation, 1u);
  std::vector<std::string> ev = log.events();
  for (const char* p : {"1001", "1002"}) {
    for (const char* q : {"1001", "1002"}) {
      EXPECT_LT(last(ev, std::string(p) + " sent Suspended"),
                first(ev, std::string(q) + " got Snapshot"));
      EXPECT_LT(last(ev, std::string(p) + " sent Snapshotted"),
                first(ev, std::string(q) + " got Write"));
    }
  }
}

TEST_F(CoordinatorTest, FailedSnapshotAbortsAndTheNextCheckpointWorks) {
  FakeProcess a(1101, "alpha"), b(1102, "beta");
  ASSERT_EQ(a.connect(settings_, secret_), LinkStatus::kOk);
  ASSERT_EQ(b.connect(settings_, secret_), LinkStatus::kOk);
  a.serve_one();
  b.snapshot_error = "pipe 4: peer not stopped";
  b.serve_one();
  Reply r = command(proto::Msg::kCmdCheckpoint);
  a.wait();
  b.wait();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.text, "checkpoint 1 failed: process 1102 (beta@testhost): pipe 4: peer not stopped");
  EXPECT_EQ(a.resume.committed, 0);
  EXPECT_EQ(b.resume.committed, 0);
  EXPECT_FALSE(fs::exists(dir_ + "/.ckpt_gen_1"));

  b.snapshot_error.clear();
  a.serve_one();
  b.serve_one();
  r = command(proto::Msg::kCmdCheckpoint);
  a.wait();
  b.wait();
  EXPECT_TRUE(r.ok) << r.text;
  EXPECT_EQ(latest_target(), ".ckpt_gen_1");
}

// A process that never answers Snapshot: the status shows it snapshotting,
// and the phase timeout names the phase.
TEST_F(CoordinatorTest, SnapshotTimeout) {
  FakeProcess a(1201, "alpha");
  ASSERT_EQ(a.connect(settings_, secret_), LinkStatus::kOk);
  a.answer_snapshot = false;
  a.serve_one();
  Reply r;
  std::thread t([&] { r = command(proto::Msg::kCmdCheckpoint); });
  EXPECT_TRUE(eventually([&] {
    return command(proto::Msg::kCmdStatus)
               .text.find("  1201  1     alpha    testhost  snapshotting") != std::string::npos;
  }));
  t.join();
  a.wait();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.text,
            "checkpoint 1 failed: process 1201 (alpha@testhost): no reply to Snapshot within 5 s");
  EXPECT_EQ(a.resume.committed, 0);
  EXPECT_FALSE(fs::exists(dir_ + "/.ckpt_gen_1"));
}

// A parent forks while being suspended: the child registers before the
// parent answers, is sent Suspend at once, and is in the checkpoint.
TEST_F(CoordinatorTest, ProcessRegisteringWhileSuspendingJoinsTheCheckpoint) {
  FakeProcess parent(1301, "parent"), child(1302, "child");
  ASSERT_EQ(parent.connect(settings_, secret_), LinkStatus::kOk);
  parent.before_reply = [&](proto::Msg request) {
    if (request != proto::Msg::kSuspend) return true;
    EXPECT_EQ(child.connect(settings_, secret_), LinkStatus::kOk);
    child.serve_one();
    return true;
  };
  parent.serve_one();
  Reply r = command(proto::Msg::kCmdCheckpoint);
  parent.wait();
  child.wait();
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_EQ(r.text.rfind("checkpoint 1 committed: 2 images", 0), 0u) << r.text;
  EXPECT_EQ(child.dir, parent.dir);
  EXPECT_EQ(child.resume.committed, 1);
  std::string manifest = read_file(dir_ + "/.ckpt_gen_1/MANIFEST");
  EXPECT_NE(manifest.find(child.image()), std::string::npos) << manifest;
}

// A process that registers once every process has stopped stays out.
TEST_F(CoordinatorTest, ProcessRegisteringWhileWritingStaysOut) {
  FakeProcess a(1401, "alpha"), late(1402, "late");
  ASSERT_EQ(a.connect(settings_, secret_), LinkStatus::kOk);
  a.before_reply = [&](proto::Msg request) {
    if (request == proto::Msg::kWrite) {
      EXPECT_EQ(late.connect(settings_, secret_), LinkStatus::kOk);
    }
    return true;
  };
  a.serve_one();
  Reply r = command(proto::Msg::kCmdCheckpoint);
  a.wait();
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_EQ(r.text.rfind("checkpoint 1 committed: 1 image", 0), 0u) << r.text;
  EXPECT_NE(read_file(log_path())
                .find("process 1402 (late@testhost) registered after every "
                      "process had stopped; not part of it"),
            std::string::npos);
  // It takes part in the next one.
  a.before_reply = nullptr;
  a.serve_one();
  late.serve_one();
  r = command(proto::Msg::kCmdCheckpoint);
  a.wait();
  late.wait();
  EXPECT_EQ(r.text.rfind("checkpoint 2 committed: 2 images", 0), 0u) << r.text;
}

// A process execs while being suspended: its new image (same vpid and host)
// takes its place, and only the new image's answers count.
TEST_F(CoordinatorTest, ExecWhileSuspendingIsFollowedByItsSuccessor) {
  FakeProcess other(1501, "other"), before(1502, "shell"), after(1502, "shell");
  ASSERT_EQ(other.connect(settings_, secret_), LinkStatus::kOk);
  ASSERT_EQ(before.connect(settings_, secret_), LinkStatus::kOk);
  before.before_reply = [&](proto::Msg) {
    before.exec_away();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_EQ(after.connect(settings_, secret_), LinkStatus::kOk);
    after.serve_one();
    return false;
  };
  other.serve_one();
  before.serve_one();
  Reply r = command(proto::Msg::kCmdCheckpoint);
  other.wait();
  before.wait();
  after.wait();
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_EQ(r.text.rfind("checkpoint 1 committed: 2 images", 0), 0u) << r.text;
  EXPECT_EQ(after.resume.committed, 1);
  EXPECT_EQ(other.resume.committed, 1);
  EXPECT_NE(read_file(log_path()).find("process 1502 (shell@testhost) exec'd; waiting"),
            std::string::npos);
  Reply st = command(proto::Msg::kCmdStatus);
  EXPECT_NE(st.text.find(", 2 processes, state idle"), std::string::npos) << st.text;
}

TEST_F(CoordinatorTest, ExecWithoutSuccessorFailsAtTheTimeout) {
  FakeProcess other(1601, "other"), gone(1602, "shell");
  ASSERT_EQ(other.connect(settings_, secret_), LinkStatus::kOk);
  ASSERT_EQ(gone.connect(settings_, secret_), LinkStatus::kOk);
  gone.before_reply = [&](proto::Msg) {
    gone.exec_away();
    return false;
  };
  other.serve_one();
  gone.serve_one();
  Reply r = command(proto::Msg::kCmdCheckpoint);
  other.wait();
  gone.wait();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.text,
            "checkpoint 1 failed: process 1602 (shell@testhost): no reply to Suspend within 5 s "
            "(it exec'd and its new image never registered)");
  EXPECT_EQ(other.resume.committed, 0);
  EXPECT_FALSE(fs::exists(dir_ + "/.ckpt_gen_1"));
}

// Once every process has stopped, an exec fails the checkpoint at once.
TEST_F(CoordinatorTest, ExecWhileWritingFails) {
  FakeProcess a(1701, "alpha");
  ASSERT_EQ(a.connect(settings_, secret_), LinkStatus::kOk);
  a.before_reply = [&](proto::Msg request) {
    if (request != proto::Msg::kWrite) return true;
    a.exec_away();
    return false;
  };
  a.serve_one();
  Reply r = command(proto::Msg::kCmdCheckpoint);
  a.wait();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.text,
            "checkpoint 1 failed: process 1701 (alpha@testhost): disconnected while writing its "
            "image (it called exec)");
}

// An exec that failed: the process carries on, and its next frame clears
// the mark, so a later disconnection is an ordinary one.
TEST_F(CoordinatorTest, FailedExecIsForgottenAtTheNextFrame) {
  FakeProcess a(1801, "alpha"), b(1802, "beta");
  ASSERT_EQ(a.connect(settings_, secret_), LinkStatus::kOk);
  ASSERT_EQ(b.connect(settings_, secret_), LinkStatus::kOk);
  b.before_reply = [&](proto::Msg request) {
    if (request != proto::Msg::kSuspend) return true;
    b.link_.send(proto::Msg::kExecing);
    b.link_.send_message(proto::Msg::kSuspended, proto::Suspended{1, ""});  // exec failed
    b.link_.close();
    return false;
  };
  a.serve_one("", false, 1, /*delay_ms=*/500);  // still suspending when b leaves
  b.serve_one();
  Reply r = command(proto::Msg::kCmdCheckpoint);
  a.wait();
  b.wait();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.text,
            "checkpoint 1 failed: process 1802 (beta@testhost): disconnected while "
            "suspending");
}

TEST_F(CoordinatorTest, OutsideProcessesAreListedWhileTheirParentLives) {
  FakeProcess parent(1901, "parent");
  ASSERT_EQ(parent.connect(settings_, secret_), LinkStatus::kOk);
  // Orphans (no such parent) are dropped; the other host's pid is not checked.
  parent.link_.send_message(proto::Msg::kOutside, proto::Outside{77, 4444, "orphan", "setuid"});
  parent.link_.send_message(proto::Msg::kOutside,
                            proto::Outside{99999999, 1901, "busybox", "statically linked"});
  Reply st;
  ASSERT_TRUE(eventually([&] {
    st = command(proto::Msg::kCmdStatus);
    return st.text.find("outside") != std::string::npos;
  })) << st.text;
  EXPECT_NE(st.text.find("\noutside the computation (not checkpointed): 1 process\n"
                         "  PID       PARENT  PROGRAM  HOST      REASON\n"
                         "  99999999  1901    busybox  testhost  statically linked\n"),
            std::string::npos)
      << st.text;
  Reply js = command(proto::Msg::kCmdStatus, 1);
  EXPECT_NE(js.text.find("\"outside\": [{\"real_pid\": 99999999, \"parent_vpid\": 1901, "
                         "\"program\": \"busybox\", \"host\": \"testhost\", "
                         "\"reason\": \"statically linked\"}]"),
            std::string::npos)
      << js.text;

  parent.link_.close();
  EXPECT_TRUE(eventually(
      [&] { return command(proto::Msg::kCmdStatus).text.find("outside") == std::string::npos; }));
}

// On the coordinator's own host, an outside process that ended is dropped.
TEST_F(CoordinatorTest, OutsideProcessThatEndedIsDropped) {
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  FakeProcess parent(2001, "parent", host);
  ASSERT_EQ(parent.connect(settings_, secret_), LinkStatus::kOk);
  pid_t ended = ::fork();
  if (ended == 0) ::_exit(0);
  ::waitpid(ended, nullptr, 0);
  parent.link_.send_message(proto::Msg::kOutside, proto::Outside{ended, 2001, "ended", "setuid"});
  parent.link_.send_message(proto::Msg::kOutside,
                            proto::Outside{::getpid(), 2001, "alive", "setuid"});
  Reply st;
  ASSERT_TRUE(eventually([&] {
    st = command(proto::Msg::kCmdStatus);
    return st.text.find("alive") != std::string::npos;
  })) << st.text;
  EXPECT_EQ(st.text.find("ended"), std::string::npos) << st.text;
  EXPECT_NE(st.text.find("outside the computation (not checkpointed): 1 process\n"),
            std::string::npos)
      << st.text;
}

}  // namespace
}  // namespace ckpt::test
