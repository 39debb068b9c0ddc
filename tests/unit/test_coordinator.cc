// The real ckpt_coordinator binary (path in env CKPT_COORDINATOR_BIN), driven
// over TCP: authentication, status, and whole checkpoints with fake
// processes built from the protocol structs, checking the generations on disk;
// periodic checkpoints, checkpoint-then-kill and preemption.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "binary_paths.h"
#include "coordinator_link.h"
#include "ensure_coordinator.h"
#include "job_secret.h"

namespace fs = std::filesystem;

namespace ckpt {
namespace {

Secret test_secret(uint8_t seed) {
  Secret s;
  for (int i = 0; i < 16; i++) s.key[i] = static_cast<uint8_t>(seed * 31 + i);
  return s;
}

// From the test() environment, else where the build tree puts it.
std::string coordinator_bin() {
  if (const char* p = std::getenv("CKPT_COORDINATOR_BIN"); p && *p) return p;
  std::string guess = self_dir() + "/../../coordinator/ckpt_coordinator";
  return ::access(guess.c_str(), X_OK) == 0 ? guess : "";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Reply {
  bool ok = false;
  std::string text;
};

// A process of the job, faked: registers, then answers one checkpoint.
class FakeProcess {
 public:
  FakeProcess(int32_t vpid, std::string program) : vpid_(vpid), program_(std::move(program)) {}
  ~FakeProcess() {
    if (thread_.joinable()) thread_.join();
  }

  LinkStatus connect(const Settings& settings, const Secret& secret, uint32_t restart_count = 0) {
    proto::ProcessInfo info{vpid_, 1, vpid_ + 100000, -1, restart_count, "testhost", program_};
    link_.set_timeout_ms(20000);
    return link_.open(settings, secret, proto::Role::kProcess, &info);
  }
  std::string image() const { return "ckpt_" + program_ + "_" + std::to_string(vpid_) + ".img"; }

  // Answers Suspend and Write (failing Written with `write_error` if set,
  // or disconnecting at Write if `vanish`) until Resume arrives; `cycles`
  // times, each Suspended delayed by `delay_ms`.
  void serve_one(std::string write_error = "", bool vanish = false, int cycles = 1,
                 int delay_ms = 0) {
    thread_ = std::thread([this, write_error, vanish, cycles, delay_ms] {
      for (int i = 0; i < cycles && serve(write_error, vanish, delay_ms); i++) resumes++;
    });
  }
  // Answers checkpoints (failing Written with `write_error`) until Kill
  // arrives (kill_status gets its exit status) or the link closes.
  void serve_until_kill(std::string write_error = "") {
    thread_ = std::thread([this, write_error] {
      while (serve(write_error, false, 0)) resumes++;
    });
  }
  void send_preempt(uint32_t signo) {
    link_.send_message(proto::Msg::kPreempt, proto::Preempt{signo});
  }
  void wait() { thread_.join(); }

  std::string dir;  // from Suspend
  bool got_resume = false;
  proto::Resume resume;
  std::string error;
  std::atomic<int> resumes{0};
  std::optional<int32_t> kill_status;  // from Kill
  CoordinatorLink link_;

 private:
  bool serve(const std::string& write_error, bool vanish, int delay_ms) {
    for (;;) {
      auto frame = link_.recv();
      if (!frame) {
        error = link_.error();
        return false;
      }
      if (frame->type == proto::Msg::kKill) {
        proto::Kill k;
        decode_payload(*frame, &k);
        kill_status = k.exit_status;
        link_.close();
        return false;
      }
      if (frame->type == proto::Msg::kSuspend) {
        proto::Suspend s;
        decode_payload(*frame, &s);
        dir = std::string(s.dir);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        link_.send_message(proto::Msg::kSuspended, proto::Suspended{1, ""});
      } else if (frame->type == proto::Msg::kWrite) {
        if (vanish) {
          link_.close();
          return false;
        }
        if (write_error.empty()) std::ofstream(dir + "/" + image()) << "image of " << vpid_;
        std::string name = image();  // the Written below only views it
        proto::Written w{write_error.empty() ? uint8_t{1} : uint8_t{0}, write_error, name, 11};
        link_.send_message(proto::Msg::kWritten, w);
      } else if (frame->type == proto::Msg::kResume) {
        decode_payload(*frame, &resume);
        got_resume = true;
        return true;
      }
    }
  }

  int32_t vpid_;
  std::string program_;
  std::thread thread_;
};

class CoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(coordinator_bin().empty()) << "set CKPT_COORDINATOR_BIN";
    char tmpl[] = "/tmp/ckpt_test_coord_XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    settings_.host = "127.0.0.1";
    settings_.dir = dir_;
    start();
  }
  void TearDown() override {
    stop();
    if (HasFailure()) std::fprintf(stderr, "coordinator log:\n%s", read_file(log_path()).c_str());
    fs::remove_all(dir_);
  }
  std::string log_path() const { return dir_ + "/test_coordinator.log"; }

  void start() {
    std::string port_file = dir_ + "/port";
    fs::remove(port_file);
    std::string bin = coordinator_bin();
    std::vector<std::string> args = {bin,         "--port",     "0",  "--port-file",
                                     port_file,   "--ckpt-dir", dir_, "--listen",
                                     "127.0.0.1", "--timeout",  "5"};
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setenv("CKPT_SECRET", to_hex(secret_).c_str(), 1);
      for (const char* name : {"SLURM_JOB_ID", "PBS_JOBID", "LSB_JOBID", "CKPT_INTERVAL",
                               "CKPT_KEEP", "CKPT_REQUEUE", "CKPT_REQUEUE_COMMAND"})
        ::unsetenv(name);
      for (const auto& [name, value] : extra_env_) ::setenv(name.c_str(), value.c_str(), 1);
      int log = ::open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      ::dup2(log, STDERR_FILENO);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(bin.c_str(), argv.data());
      ::_exit(127);
    }
    for (int i = 0; i < 500 && !fs::exists(port_file); i++)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(fs::exists(port_file)) << "coordinator did not write its port file";
    settings_.port = static_cast<uint16_t>(std::stoi(read_file(port_file)));
  }
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

  // Restarts the coordinator with these extra options and environment.
  void restart_with(std::vector<std::string> args,
                    std::vector<std::pair<std::string, std::string>> env = {}) {
    stop();
    extra_args_ = std::move(args);
    extra_env_ = std::move(env);
    start();
  }

  Reply command(proto::Msg type, uint8_t json = 0) {
    if (type == proto::Msg::kCmdStatus) return command_with(type, proto::CmdStatus{json});
    return command_with(type, ByteWriter());
  }
  template <typename Body>
  Reply command_with(proto::Msg type, const Body& body) {
    CoordinatorLink link;
    link.set_timeout_ms(20000);
    if (link.open(settings_, secret_, proto::Role::kCommand) != LinkStatus::kOk)
      return {false, "open: " + link.error()};
    bool sent = send_body(link, type, body);
    auto frame = sent ? link.recv() : std::nullopt;
    proto::CmdReply reply;
    if (!frame || frame->type != proto::Msg::kCmdReply || !decode_payload(*frame, &reply))
      return {false, "no reply: " + link.error()};
    return {reply.ok != 0, std::string(reply.text)};
  }

  static bool send_body(CoordinatorLink& link, proto::Msg type, const ByteWriter& w) {
    return link.send(type, w);
  }
  template <typename Body>
  static bool send_body(CoordinatorLink& link, proto::Msg type, const Body& body) {
    return link.send_message(type, body);
  }

  // Generation dirs present, ascending.
  std::vector<int> generations() {
    std::vector<int> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      std::string name = e.path().filename().string();
      if (name.rfind(".ckpt_gen_", 0) == 0) out.push_back(std::stoi(name.substr(10)));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string latest_target() {
    std::error_code ec;
    return fs::read_symlink(dir_ + "/ckpt_latest", ec).string();
  }

  std::string dir_;
  Settings settings_;
  Secret secret_ = test_secret(1);
  pid_t pid_ = -1;
  std::vector<std::string> extra_args_;
  std::vector<std::pair<std::string, std::string>> extra_env_;
};

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
  EXPECT_NE(r.text.find(", 1 process, state idle\n4242 1 -1 fake testhost running\n"),
            std::string::npos)
      << r.text;
  r = command(proto::Msg::kCmdStatus, 1);
  ASSERT_TRUE(r.ok) << r.text;
  EXPECT_EQ(r.text.front(), '{');
  EXPECT_NE(r.text.find("\"vpid\": 4242"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("\"state\": \"idle\""), std::string::npos) << r.text;
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

// Waits up to `ms` for `cond`.
template <typename Cond>
bool eventually(Cond cond, int ms = 15000) {
  for (int i = 0; i < ms / 20; i++) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
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

}  // namespace
}  // namespace ckpt
