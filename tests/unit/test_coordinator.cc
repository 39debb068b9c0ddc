// The real ckpt_coordinator binary, driven over TCP (coordinator_fixture.h):
// authentication, status, and whole checkpoints with fake processes,
// checking the generations on disk; periodic checkpoints, checkpoint-then-kill
// and preemption. Process trees (late joiners, exec, outside processes) and
// the snapshot phase: test_process_tree.cc.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "coordinator_fixture.h"
#include "launcher/common/ensure_coordinator.h"

namespace ckpt::test {
namespace {

TEST_F(CoordinatorTest, WrongProofGetsRejectThenClose) {
  CoordinatorLink link;
  ASSERT_EQ(link.connect(settings_.host, settings_.port), LinkStatus::kOk) << link.error();
  link.set_timeout_ms(5000);
  auto challenge = link.recv();
  ASSERT_TRUE(challenge);
  ASSERT_EQ(challenge->type, proto::Msg::kChallenge);
  proto::Hello hello;
  hello.role = proto::Role::kCommand;
  hello.proof = 12345;
  ASSERT_TRUE(link.send_message(proto::Msg::kHello, hello));
  auto reject = link.recv();
  ASSERT_TRUE(reject) << link.error();
  ASSERT_EQ(reject->type, proto::Msg::kReject);
  proto::TextMsg text;
  ASSERT_TRUE(decode_payload(*reject, &text));
  EXPECT_EQ(text.text, "wrong job secret");
  EXPECT_FALSE(link.recv());
  EXPECT_NE(link.error().find("closed the connection"), std::string::npos) << link.error();

  // Through open(): the same, as one clear line.
  CoordinatorLink other;
  EXPECT_EQ(other.open(settings_, test_secret(2), proto::Role::kCommand), LinkStatus::kRejected);
  EXPECT_EQ(other.error(), "coordinator at 127.0.0.1:" + std::to_string(settings_.port) +
                               " rejected us: wrong job secret");
}

TEST_F(CoordinatorTest, RightProofGetsWelcome) {
  CoordinatorLink link;
  ASSERT_EQ(link.open(settings_, secret_, proto::Role::kCommand), LinkStatus::kOk) << link.error();
  EXPECT_EQ(link.generation(), 0u);
  EXPECT_EQ(link.ckpt_dir(), dir_);
}

TEST_F(CoordinatorTest, WrongVersionClosesConnection) {
  CoordinatorLink link;
  ASSERT_EQ(link.connect(settings_.host, settings_.port), LinkStatus::kOk);
  link.set_timeout_ms(5000);
  ASSERT_TRUE(link.recv());  // Challenge
  proto::FrameHeader bad{0, static_cast<uint16_t>(proto::Msg::kHello), 99};
  ASSERT_EQ(::send(link.fd(), &bad, sizeof(bad), MSG_NOSIGNAL), (ssize_t)sizeof(bad));
  auto frame = link.recv();
  if (frame) EXPECT_EQ(frame->type, proto::Msg::kReject);
  EXPECT_FALSE(link.recv());
}

TEST_F(CoordinatorTest, OversizedFrameClosesConnection) {
  CoordinatorLink link;
  ASSERT_EQ(link.open(settings_, secret_, proto::Role::kCommand), LinkStatus::kOk);
  link.set_timeout_ms(5000);
  proto::FrameHeader bad{proto::kMaxFrame + 1, static_cast<uint16_t>(proto::Msg::kCmdStatus),
                         proto::kProtocolVersion};
  ASSERT_EQ(::send(link.fd(), &bad, sizeof(bad), MSG_NOSIGNAL), (ssize_t)sizeof(bad));
  EXPECT_FALSE(link.recv());
}

TEST_F(CoordinatorTest, StatusTextAndJson) {
  Reply r = command(proto::Msg::kCmdStatus);
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_EQ(r.text, "coordinator: port " + std::to_string(settings_.port) + ", dir " + dir_ +
                        ", generation 0, 0 processes, state idle\n");

  FakeProcess p(4242, "fake");
  ASSERT_EQ(p.connect(settings_, secret_), LinkStatus::kOk) << p.link_.error();
  r = command(proto::Msg::kCmdStatus);
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_NE(r.text.find(", 1 process, state idle\n"
                        "  VPID  PPID  PROGRAM  HOST      STATE    RANK  RESTARTS\n"
                        "  4242  1     fake     testhost  running  -     0\n"),
            std::string::npos)
      << r.text;
  r = command(proto::Msg::kCmdStatus, 1);
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_EQ(r.text.front(), '{');
  EXPECT_NE(r.text.find("\"vpid\": 4242"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("\"state\": \"idle\""), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("\"state\": \"running\""), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("\"outside\": []"), std::string::npos) << r.text;
}

TEST_F(CoordinatorTest, CheckpointWithoutProcessesFails) {
  Reply r = command(proto::Msg::kCmdCheckpoint);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.text, "no processes to checkpoint");
  EXPECT_FALSE(fs::exists(dir_ + "/.ckpt_gen_1"));
}

TEST_F(CoordinatorTest, CheckpointCommitsGenerations) {
  FakeProcess a(101, "alpha"), b(102, "beta");
  ASSERT_EQ(a.connect(settings_, secret_), LinkStatus::kOk);
  ASSERT_EQ(b.connect(settings_, secret_), LinkStatus::kOk);
  for (uint64_t gen = 1; gen <= 3; gen++) {
    a.serve_one();
    b.serve_one();
    Reply r = command(proto::Msg::kCmdCheckpoint);
    a.wait();
    b.wait();
    ASSERT_TRUE(r.ok) << r.text;
    EXPECT_EQ(
        r.text.rfind("checkpoint " + std::to_string(gen) + " committed: 2 images, 24 bytes", 0), 0u)
        << r.text;
    EXPECT_EQ(r.generation, gen);
    EXPECT_EQ(r.processes, 2u);
    EXPECT_EQ(r.bytes, 24u);
    std::string gen_dir = dir_ + "/.ckpt_gen_" + std::to_string(gen);
    EXPECT_EQ(a.dir, gen_dir);
    EXPECT_TRUE(a.got_resume && b.got_resume);
    EXPECT_EQ(a.resume.committed, 1);
    EXPECT_EQ(a.resume.generation, gen);
    EXPECT_EQ(latest_target(), ".ckpt_gen_" + std::to_string(gen));
    std::string manifest = read_file(gen_dir + "/MANIFEST");
    std::string head =
        "generation " + std::to_string(gen) + "\n" + a.image() + "\n" + b.image() + "\n\n";
    EXPECT_EQ(manifest.substr(0, head.size()), head);
    EXPECT_NE(manifest.find("\nscheduler: none\nrestart_count: 0\nhosts: testhost\n"),
              std::string::npos)
        << manifest;
    EXPECT_NE(manifest.find("\nduration_ms: " + std::to_string(r.duration_ms) + "\nbytes: 24\n"),
              std::string::npos)
        << manifest;
    for (FakeProcess* p : {&a, &b}) {
      std::string link = dir_ + "/" + p->image();
      EXPECT_TRUE(fs::is_symlink(link));
      EXPECT_EQ(fs::read_symlink(link).string(), "ckpt_latest/" + p->image());
      EXPECT_EQ(fs::canonical(link).string(), fs::canonical(gen_dir + "/" + p->image()).string());
    }
  }
  // --keep 2 (the default): generation 1 is gone.
  EXPECT_FALSE(fs::exists(dir_ + "/.ckpt_gen_1"));
  EXPECT_TRUE(fs::exists(dir_ + "/.ckpt_gen_2"));
  Reply st = command(proto::Msg::kCmdStatus);
  EXPECT_NE(st.text.find("generation 3, 2 processes, state idle"), std::string::npos) << st.text;
  EXPECT_NE(st.text.find("\nlast checkpoint: generation 3 at "), std::string::npos) << st.text;
  EXPECT_NE(st.text.find(", 2 processes, 24 B, took "), std::string::npos) << st.text;
  Reply js = command(proto::Msg::kCmdStatus, 1);
  EXPECT_NE(js.text.find("\"last_checkpoint\": {\"generation\": 3, \"time\": \""),
            std::string::npos)
      << js.text;
}

// A command that asks for progress gets CmdProgress frames (the start, each
// process stopped, each image written) before its reply.
TEST_F(CoordinatorTest, CheckpointProgressBeforeTheReply) {
  FakeProcess a(111, "alpha"), b(112, "beta");
  ASSERT_EQ(a.connect(settings_, secret_), LinkStatus::kOk);
  ASSERT_EQ(b.connect(settings_, secret_), LinkStatus::kOk);
  a.serve_one();
  b.serve_one();
  CoordinatorLink link;
  link.set_timeout_ms(20000);
  ASSERT_EQ(link.open(settings_, secret_, proto::Role::kCommand), LinkStatus::kOk);
  ASSERT_TRUE(link.send_message(proto::Msg::kCmdCheckpoint,
                                proto::CmdCheckpoint{proto::kCheckpointProgress}));
  std::vector<proto::CmdProgress> progress;
  proto::CmdReply reply;
  for (;;) {
    auto frame = link.recv();
    ASSERT_TRUE(frame) << link.error();
    if (frame->type == proto::Msg::kCmdReply) {
      ASSERT_TRUE(decode_payload(*frame, &reply));
      break;
    }
    ASSERT_EQ(frame->type, proto::Msg::kCmdProgress);
    ASSERT_TRUE(decode_payload(*frame, &progress.emplace_back()));
  }
  a.wait();
  b.wait();
  ASSERT_EQ(reply.ok, 1) << reply.text;
  EXPECT_EQ(reply.generation, 1u);
  ASSERT_GE(progress.size(), 4u);  // start, 2 stopped, (snapshots), 1 written
  EXPECT_EQ(progress.front().stopped, 0u);
  EXPECT_EQ(progress.front().phase, proto::ProgressPhase::kSuspending);
  uint32_t stopped = 0, written = 0;
  for (const auto& p : progress) {
    EXPECT_EQ(p.generation, 1u);
    EXPECT_EQ(p.processes, 2u);
    EXPECT_GE(p.stopped, stopped);  // never backwards
    EXPECT_GE(p.written, written);
    stopped = p.stopped;
    written = p.written;
  }
  EXPECT_EQ(stopped, 2u);
  EXPECT_EQ(written, 1u);  // the last image is followed by the commit, then the reply
  EXPECT_EQ(progress.back().bytes, 11u);
  EXPECT_EQ(progress.back().phase, proto::ProgressPhase::kWriting);
}

TEST_F(CoordinatorTest, FailingWrittenAbortsAndKeepsPreviousGeneration) {
  FakeProcess a(201, "alpha"), b(202, "beta");
  ASSERT_EQ(a.connect(settings_, secret_), LinkStatus::kOk);
  ASSERT_EQ(b.connect(settings_, secret_), LinkStatus::kOk);
  a.serve_one();
  b.serve_one();
  ASSERT_TRUE(command(proto::Msg::kCmdCheckpoint).ok);
  a.wait();
  b.wait();
  std::string good_image = read_file(dir_ + "/.ckpt_gen_1/" + a.image());

  a.serve_one();
  b.serve_one("disk full");
  Reply r = command(proto::Msg::kCmdCheckpoint);
  a.wait();
  b.wait();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.text, "checkpoint 2 failed: process 202 (beta@testhost): disk full");
  EXPECT_TRUE(a.got_resume && b.got_resume);
  EXPECT_EQ(a.resume.committed, 0);
  EXPECT_EQ(b.resume.committed, 0);
  EXPECT_FALSE(fs::exists(dir_ + "/.ckpt_gen_2"));
  EXPECT_EQ(latest_target(), ".ckpt_gen_1");
  EXPECT_EQ(read_file(dir_ + "/" + a.image()), good_image);

  // The next checkpoint reuses number 2 and succeeds.
  a.serve_one();
  b.serve_one();
  r = command(proto::Msg::kCmdCheckpoint);
  a.wait();
  b.wait();
  EXPECT_TRUE(r.ok) << r.text;
  EXPECT_EQ(latest_target(), ".ckpt_gen_2");
}

TEST_F(CoordinatorTest, DisconnectDuringCheckpointAborts) {
  FakeProcess a(301, "alpha"), b(302, "beta");
  ASSERT_EQ(a.connect(settings_, secret_), LinkStatus::kOk);
  ASSERT_EQ(b.connect(settings_, secret_), LinkStatus::kOk);
  a.serve_one();
  b.serve_one("", /*vanish=*/true);
  Reply r = command(proto::Msg::kCmdCheckpoint);
  a.wait();
  b.wait();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.text,
            "checkpoint 1 failed: process 302 (beta@testhost): disconnected while writing "
            "its image");
  EXPECT_TRUE(a.got_resume);
  EXPECT_EQ(a.resume.committed, 0);
  EXPECT_FALSE(fs::exists(dir_ + "/.ckpt_gen_1"));
  EXPECT_FALSE(fs::exists(dir_ + "/ckpt_latest"));
}

// A process gone before it stopped, without saying it exits (killed, or its
// host lost): the checkpoint fails rather than commit without it.
TEST_F(CoordinatorTest, ProcessGoneAtSuspendWithoutExitingFailsTheCheckpoint) {
  FakeProcess a(311, "alpha"), b(312, "beta");
  ASSERT_EQ(a.connect(settings_, secret_), LinkStatus::kOk);
  ASSERT_EQ(b.connect(settings_, secret_), LinkStatus::kOk);
  a.serve_one();
  b.before_reply = [&](proto::Msg m) {
    if (m == proto::Msg::kSuspend) b.link_.close();
    return m != proto::Msg::kSuspend;
  };
  b.serve_one();
  Reply r = command(proto::Msg::kCmdCheckpoint);
  a.wait();
  b.wait();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.text,
            "checkpoint 1 failed: process 312 (beta@testhost): gone before it stopped, without "
            "exiting (killed by a signal, or its host failed)");
  EXPECT_FALSE(fs::exists(dir_ + "/ckpt_latest"));
}

// A process that exits on its own before it stopped is not part of the
// checkpoint, which commits without it.
TEST_F(CoordinatorTest, ProcessExitingAtSuspendIsLeftOut) {
  FakeProcess a(321, "alpha"), b(322, "beta");
  ASSERT_EQ(a.connect(settings_, secret_), LinkStatus::kOk);
  ASSERT_EQ(b.connect(settings_, secret_), LinkStatus::kOk);
  a.serve_one();
  b.before_reply = [&](proto::Msg m) {
    if (m != proto::Msg::kSuspend) return true;
    b.link_.send(proto::Msg::kExiting);
    b.link_.close();
    return false;
  };
  b.serve_one();
  Reply r = command(proto::Msg::kCmdCheckpoint);
  a.wait();
  b.wait();
  EXPECT_TRUE(r.ok) << r.text;
  EXPECT_TRUE(fs::exists(dir_ + "/.ckpt_gen_1/" + a.image()));
  EXPECT_FALSE(fs::exists(dir_ + "/.ckpt_gen_1/" + b.image()));
}

// A checkpoint requested while one runs waits, then gets its own.
TEST_F(CoordinatorTest, SecondCheckpointRequestWaitsForItsOwn) {
  FakeProcess a(801, "alpha");
  ASSERT_EQ(a.connect(settings_, secret_), LinkStatus::kOk);
  a.serve_one("", false, /*cycles=*/2, /*delay_ms=*/300);
  Reply first, second;
  std::thread t([&] { first = command(proto::Msg::kCmdCheckpoint); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  second = command(proto::Msg::kCmdCheckpoint);
  t.join();
  a.wait();
  EXPECT_EQ(a.resumes, 2);
  EXPECT_TRUE(first.ok) << first.text;
  EXPECT_TRUE(second.ok) << second.text;
  EXPECT_EQ(first.text.rfind("checkpoint 1 committed", 0), 0u) << first.text;
  EXPECT_EQ(second.text.rfind("checkpoint 2 committed", 0), 0u) << second.text;
  EXPECT_EQ(latest_target(), ".ckpt_gen_2");
}

TEST_F(CoordinatorTest, SilentProcessTimesOut) {
  FakeProcess a(401, "alpha");
  ASSERT_EQ(a.connect(settings_, secret_), LinkStatus::kOk);  // never answers
  auto t0 = std::chrono::steady_clock::now();
  Reply r = command(proto::Msg::kCmdCheckpoint);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.text,
            "checkpoint 1 failed: process 401 (alpha@testhost): no reply to Suspend "
            "within 5 s");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::seconds(4));
  EXPECT_FALSE(fs::exists(dir_ + "/.ckpt_gen_1"));
}

TEST_F(CoordinatorTest, KillWaitsForProcessesToLeave) {
  FakeProcess a(501, "alpha");
  ASSERT_EQ(a.connect(settings_, secret_), LinkStatus::kOk);
  std::thread victim([&] {
    auto frame = a.link_.recv();
    if (frame && frame->type == proto::Msg::kKill) a.link_.close();
  });
  Reply r = command(proto::Msg::kCmdKill);
  victim.join();
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.text, "killed 1 process");
}

TEST_F(CoordinatorTest, StartupRemovesInterruptedGenerations) {
  FakeProcess a(601, "alpha");
  ASSERT_EQ(a.connect(settings_, secret_), LinkStatus::kOk);
  a.serve_one();
  ASSERT_TRUE(command(proto::Msg::kCmdCheckpoint).ok);
  a.wait();
  a.link_.close();
  stop();
  fs::create_directory(dir_ + "/.ckpt_gen_2");  // an interrupted checkpoint
  start();
  EXPECT_FALSE(fs::exists(dir_ + "/.ckpt_gen_2"));
  EXPECT_TRUE(fs::exists(dir_ + "/.ckpt_gen_1"));
  CoordinatorLink link;
  ASSERT_EQ(link.open(settings_, secret_, proto::Role::kCommand), LinkStatus::kOk);
  EXPECT_EQ(link.generation(), 1u);
}

TEST_F(CoordinatorTest, EnsureCoordinatorStartsDaemonOnce) {
  // A free port for the daemon.
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(0, ::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)));
  ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(s);
  Settings daemon_settings = settings_;
  daemon_settings.port = ntohs(addr.sin_port);
  daemon_settings.dir = dir_ + "/daemon";

  bool started = false;
  EXPECT_EQ(ensure_coordinator(daemon_settings, secret_, &started, coordinator_bin()), "");
  EXPECT_TRUE(started);
  EXPECT_EQ(ensure_coordinator(daemon_settings, secret_, &started, coordinator_bin()), "");
  EXPECT_FALSE(started);
  EXPECT_EQ(ensure_coordinator(daemon_settings, test_secret(9), &started, coordinator_bin()),
            "a coordinator of another job is listening on port " +
                std::to_string(daemon_settings.port) +
                " (wrong job secret); use another --port or CKPT_COORD_PORT");
  // --exit-on-last: a process comes and goes, and the daemon leaves with it.
  {
    FakeProcess p(701, "gamma");
    ASSERT_EQ(p.connect(daemon_settings, secret_), LinkStatus::kOk);
  }
  CoordinatorLink link;
  for (int i = 0; i < 100; i++) {
    if (link.open(daemon_settings, secret_, proto::Role::kCommand) == LinkStatus::kUnreachable)
      break;
    link.close();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(link.open(daemon_settings, secret_, proto::Role::kCommand), LinkStatus::kUnreachable);
  EXPECT_NE(link.error().find("no coordinator at 127.0.0.1:"), std::string::npos) << link.error();
}

// --interval 1 --keep 2: checkpoints keep coming, and only the last two
// committed generations stay; CmdInterval turns them off at run time.
TEST_F(CoordinatorTest, PeriodicCheckpointsKeepTwoGenerations) {
  restart_with({"--interval", "1", "--keep", "2"});
  FakeProcess a(901, "alpha");
  ASSERT_EQ(a.connect(settings_, secret_), LinkStatus::kOk);
  a.serve_until_kill();
  ASSERT_TRUE(eventually([&] { return a.resumes >= 4; })) << "resumes: " << a.resumes;
  Reply r = command_with(proto::Msg::kCmdInterval, proto::CmdInterval{0});
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.text, "periodic checkpoints off");
  // Let a checkpoint that was already under way finish.
  ASSERT_TRUE(eventually([&] {
    return command(proto::Msg::kCmdStatus).text.find("state idle") != std::string::npos;
  }));
  int done = a.resumes;
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(a.resumes, done) << "checkpoints continued after --interval 0";
  std::vector<int> gens = generations();
  ASSERT_EQ(gens.size(), 2u);
  EXPECT_EQ(gens[1], done);
  EXPECT_EQ(gens[0], done - 1);
  EXPECT_EQ(latest_target(), ".ckpt_gen_" + std::to_string(done));
  EXPECT_TRUE(a.resume.committed);

  // And on again at run time.
  r = command_with(proto::Msg::kCmdInterval, proto::CmdInterval{1});
  EXPECT_EQ(r.text, "checkpoint interval 1 s");
  EXPECT_NE(command(proto::Msg::kCmdStatus).text.find("interval 1 s"), std::string::npos);
  ASSERT_TRUE(eventually([&] { return a.resumes > done; }));
  a.link_.close();
  a.wait();
}

TEST_F(CoordinatorTest, CheckpointThenKill) {
  FakeProcess a(911, "alpha");
  ASSERT_EQ(a.connect(settings_, secret_), LinkStatus::kOk);
  a.serve_until_kill();
  Reply r =
      command_with(proto::Msg::kCmdCheckpoint, proto::CmdCheckpoint{proto::kCheckpointThenKill});
  a.wait();
  EXPECT_TRUE(r.ok) << r.text;
  EXPECT_EQ(r.text.rfind("checkpoint 1 committed", 0), 0u) << r.text;
  EXPECT_NE(r.text.find("; killed 1 process"), std::string::npos) << r.text;
  EXPECT_EQ(a.resumes, 1);
  ASSERT_TRUE(a.kill_status.has_value());
  EXPECT_EQ(*a.kill_status, -1);  // SIGKILL, as --kill
  EXPECT_EQ(latest_target(), ".ckpt_gen_1");
  EXPECT_EQ(a.suspend_last, std::vector<bool>{true});  // the shortest commit wins
}

TEST_F(CoordinatorTest, APlainCheckpointIsNotTheLast) {
  FakeProcess a(915, "alpha");
  ASSERT_EQ(a.connect(settings_, secret_), LinkStatus::kOk);
  a.serve_one();
  ASSERT_TRUE(command(proto::Msg::kCmdCheckpoint).ok);
  a.wait();
  EXPECT_EQ(a.suspend_last, std::vector<bool>{false});
}

TEST_F(CoordinatorTest, CheckpointThenKillDoesNotKillWhenTheCheckpointFails) {
  FakeProcess a(921, "alpha");
  ASSERT_EQ(a.connect(settings_, secret_), LinkStatus::kOk);
  a.serve_one("disk full");
  Reply r =
      command_with(proto::Msg::kCmdCheckpoint, proto::CmdCheckpoint{proto::kCheckpointThenKill});
  a.wait();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.text,
            "checkpoint 1 failed: process 921 (alpha@testhost): disk full; not killing the "
            "computation");
  EXPECT_FALSE(a.kill_status.has_value());
  Reply st = command(proto::Msg::kCmdStatus);
  EXPECT_NE(st.text.find("1 process, state idle"), std::string::npos) << st.text;
}

// Two processes get the preemption signal: one checkpoint, then Kill{143}
// to both; the requeue command runs once, between the two.
TEST_F(CoordinatorTest, PreemptFromTwoProcessesCheckpointsOnceThenExits143) {
  std::string marker = dir_ + "/requeued";
  restart_with({"--requeue"}, {{"CKPT_REQUEUE_COMMAND", "echo requeued >> " + marker},
                               {"SLURM_JOB_ID", "4242"},
                               {"SLURM_JOB_NODELIST", "node[1-2]"}});
  FakeProcess a(931, "alpha"), b(932, "beta");
  ASSERT_EQ(a.connect(settings_, secret_, 2), LinkStatus::kOk);
  ASSERT_EQ(b.connect(settings_, secret_, 3), LinkStatus::kOk);
  a.serve_until_kill();
  b.serve_until_kill();
  a.send_preempt(SIGUSR1);
  b.send_preempt(SIGTERM);
  a.wait();
  b.wait();
  EXPECT_EQ(a.resumes, 1);
  EXPECT_EQ(b.resumes, 1);
  ASSERT_TRUE(a.kill_status && b.kill_status);
  EXPECT_EQ(*a.kill_status, proto::kPreemptExitStatus);
  EXPECT_EQ(*b.kill_status, proto::kPreemptExitStatus);
  EXPECT_EQ(a.suspend_last, std::vector<bool>{true});
  EXPECT_EQ(b.suspend_last, std::vector<bool>{true});
  EXPECT_EQ(generations(), std::vector<int>{1});
  EXPECT_EQ(latest_target(), ".ckpt_gen_1");
  EXPECT_EQ(read_file(marker), "requeued\n");
  std::string manifest = read_file(dir_ + "/.ckpt_gen_1/MANIFEST");
  EXPECT_NE(manifest.find("\nscheduler: slurm\njob_id: 4242\nnodes: node[1-2]\nrestart_count: 3\n"),
            std::string::npos)
      << manifest;
  std::string log = read_file(log_path());
  EXPECT_NE(log.find("already being handled"), std::string::npos) << log;
}

// --keep 1: a failed checkpoint (here a preemption's) never removes the
// committed one; the computation still ends, with SIGKILL instead of 143.
TEST_F(CoordinatorTest, FailedCheckpointKeepsThePreviousGeneration) {
  restart_with({"--keep", "1"});
  FakeProcess a(941, "alpha");
  ASSERT_EQ(a.connect(settings_, secret_), LinkStatus::kOk);
  a.serve_one();
  ASSERT_TRUE(command(proto::Msg::kCmdCheckpoint).ok);
  a.wait();
  std::string good = read_file(dir_ + "/.ckpt_gen_1/" + a.image());

  a.serve_until_kill("no space left on device");
  a.send_preempt(SIGTERM);
  a.wait();
  ASSERT_TRUE(a.kill_status.has_value());
  EXPECT_EQ(*a.kill_status, -1);
  EXPECT_EQ(generations(), std::vector<int>{1});
  EXPECT_EQ(latest_target(), ".ckpt_gen_1");
  EXPECT_EQ(read_file(dir_ + "/" + a.image()), good);
}

// The application's own request (ckpt.h): CheckpointRequest from a process
// runs a checkpoint of every process, and CheckpointDone{ok, text} goes to
// the asking process after its Resume.
TEST_F(CoordinatorTest, ProcessRequestGetsCheckpointDoneAfterResume) {
  FakeProcess a(301, "alpha"), b(302, "beta");
  ASSERT_EQ(a.connect(settings_, secret_), LinkStatus::kOk);
  ASSERT_EQ(b.connect(settings_, secret_), LinkStatus::kOk);
  for (uint64_t gen = 1; gen <= 2; gen++) {
    a.serve_one();
    b.serve_one(gen == 2 ? "disk full" : "");
    a.link_.send(proto::Msg::kCheckpointRequest);
    a.wait();
    b.wait();
    EXPECT_EQ(a.resume.committed, gen == 1 ? 1 : 0);
    auto frame = a.link_.recv();
    ASSERT_TRUE(frame);
    ASSERT_EQ(frame->type, proto::Msg::kCheckpointDone);
    proto::CmdReply done;
    ASSERT_TRUE(decode_payload(*frame, &done));
    EXPECT_EQ(done.ok, gen == 1 ? 1 : 0) << done.text;
    std::string text(done.text);
    if (gen == 1)
      EXPECT_EQ(text.rfind("checkpoint 1 committed", 0), 0u) << text;
    else
      EXPECT_NE(text.find("disk full"), std::string::npos) << text;
  }
  EXPECT_EQ(latest_target(), ".ckpt_gen_1");
  EXPECT_NE(read_file(log_path()).find("asks for a checkpoint"), std::string::npos);
}

// A request from a process that the running checkpoint has not suspended yet
// is served by that checkpoint (its image comes after the request): the
// ranks of an MPI job asking at once get one checkpoint.
TEST_F(CoordinatorTest, ProcessRequestJoinsACheckpointThatHasNotSuspendedIt) {
  FakeProcess a(311, "alpha"), b(312, "beta");
  ASSERT_EQ(a.connect(settings_, secret_), LinkStatus::kOk);
  ASSERT_EQ(b.connect(settings_, secret_), LinkStatus::kOk);
  a.serve_one("", false, 1, 600);  // Suspended 600 ms after Suspend
  b.serve_one();
  b.link_.send(proto::Msg::kCheckpointRequest);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  a.link_.send(proto::Msg::kCheckpointRequest);
  a.wait();
  b.wait();
  for (FakeProcess* p : {&a, &b}) {
    auto frame = p->link_.recv();
    ASSERT_TRUE(frame);
    ASSERT_EQ(frame->type, proto::Msg::kCheckpointDone);
    proto::CmdReply done;
    ASSERT_TRUE(decode_payload(*frame, &done));
    EXPECT_EQ(done.ok, 1) << done.text;
    EXPECT_EQ(std::string(done.text).rfind("checkpoint 1 committed", 0), 0u) << done.text;
  }
  Reply st = command(proto::Msg::kCmdStatus);
  EXPECT_NE(st.text.find("generation 1, 2 processes, state idle"), std::string::npos) << st.text;
  EXPECT_EQ(generations(), std::vector<int>{1});
  EXPECT_NE(read_file(log_path()).find("served by the one being taken"), std::string::npos);
}

}  // namespace
}  // namespace ckpt::test
