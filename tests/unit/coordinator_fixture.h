// Test support for driving the real ckpt_coordinator binary (path in env
// CKPT_COORDINATOR_BIN) over TCP: a fixture that starts it in a temporary
// checkpoint dir, and fake processes built from the protocol structs.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/job_secret.h"
#include "launcher/common/binary_paths.h"
#include "launcher/common/coordinator_link.h"

namespace ckpt::test {

namespace fs = std::filesystem;

inline Secret test_secret(uint8_t seed) {
  Secret s;
  for (int i = 0; i < 16; i++) s.key[i] = static_cast<uint8_t>(seed * 31 + i);
  return s;
}

// From the test() environment, else where the build tree puts it.
inline std::string coordinator_bin() {
  if (const char* p = std::getenv("CKPT_COORDINATOR_BIN"); p && *p) return p;
  std::string guess = self_dir() + "/../../coordinator/ckpt_coordinator";
  return ::access(guess.c_str(), X_OK) == 0 ? guess : "";
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
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

struct Reply {
  bool ok = false;
  std::string text;
  uint64_t generation = 0;  // a checkpoint's figures (CmdReply's trailing fields)
  uint32_t processes = 0;
  uint64_t bytes = 0;
  uint64_t duration_ms = 0;
};

// What the fakes of one test received and sent, in order ("101 got Suspend",
// "102 sent Suspended").
class EventLog {
 public:
  void add(std::string event) {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(event));
  }
  std::vector<std::string> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> events_;
};

// A process of the job, faked: registers, then answers checkpoints.
class FakeProcess {
 public:
  FakeProcess(int32_t vpid, std::string program, std::string host = "testhost")
      : vpid_(vpid), program_(std::move(program)), host_(std::move(host)) {}
  ~FakeProcess() {
    if (thread_.joinable()) thread_.join();
  }

  LinkStatus connect(const Settings& settings, const Secret& secret, uint32_t restart_count = 0) {
    proto::ProcessInfo info{vpid_,
                            1,
                            real_pid ? real_pid : vpid_ + 100000,
                            -1,
                            restart_count,
                            host_,
                            program_,
                            committed_generation,
                            static_cast<uint8_t>(rejoining)};
    link_.set_timeout_ms(20000);
    return link_.open(settings, secret, proto::Role::kProcess, &info);
  }
  std::string image() const { return "ckpt_" + program_ + "_" + std::to_string(vpid_) + ".img"; }

  // Answers Suspend, Snapshot and Write (failing Written with `write_error`
  // if set, or disconnecting at Write if `vanish`) until Resume arrives;
  // `cycles` times, each Suspended delayed by `delay_ms`.
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
  // Simulates an execve: Execing, then the connection closes.
  void exec_away() {
    link_.send(proto::Msg::kExecing);
    link_.close();
  }
  void wait() { thread_.join(); }

  // Runs when a request (Suspend, Snapshot, Write) arrives, before the
  // answer; false: stop serving without answering (it closed the link).
  std::function<bool(proto::Msg)> before_reply;
  // What connect() says in its Hello besides vpid, program and host.
  int32_t real_pid = 0;  // 0: vpid + 100000
  uint64_t committed_generation = 0;
  bool rejoining = false;
  std::string snapshot_error;   // Snapshotted{ok=0} with this error
  bool answer_snapshot = true;  // false: never answer Snapshot
  EventLog* events = nullptr;

  std::string dir;                 // from Suspend
  std::vector<bool> suspend_last;  // each Suspend's `last`
  uint64_t snapshot_generation = 0;
  bool got_resume = false;
  proto::Resume resume;
  std::string error;
  std::atomic<int> resumes{0};
  std::optional<int32_t> kill_status;  // from Kill
  CoordinatorLink link_;

 private:
  void note(const std::string& what) {
    if (events) events->add(std::to_string(vpid_) + " " + what);
  }
  bool answer(proto::Msg request) {
    note("got " + msg_name(request));
    return !before_reply || before_reply(request);
  }
  template <typename Body>
  void reply(proto::Msg type, const Body& body) {
    note("sent " + msg_name(type));
    link_.send_message(type, body);
  }

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
        suspend_last.push_back(s.last != 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        if (!answer(frame->type)) return false;
        reply(proto::Msg::kSuspended, proto::Suspended{1, ""});
      } else if (frame->type == proto::Msg::kSnapshot) {
        proto::Snapshot s;
        decode_payload(*frame, &s);
        snapshot_generation = s.generation;
        if (!answer(frame->type)) return false;
        if (!answer_snapshot) continue;
        uint8_t ok = snapshot_error.empty() ? 1 : 0;
        reply(proto::Msg::kSnapshotted, proto::Snapshotted{ok, snapshot_error});
      } else if (frame->type == proto::Msg::kWrite) {
        if (!answer(frame->type)) return false;
        if (vanish) {
          link_.close();
          return false;
        }
        if (write_error.empty()) std::ofstream(dir + "/" + image()) << "image of " << vpid_;
        std::string name = image();  // the Written below only views it
        proto::Written w{write_error.empty() ? uint8_t{1} : uint8_t{0}, write_error, name, 11};
        reply(proto::Msg::kWritten, w);
      } else if (frame->type == proto::Msg::kResume) {
        decode_payload(*frame, &resume);
        got_resume = true;
        return true;
      }
    }
  }

  int32_t vpid_;
  std::string program_;
  std::string host_;
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
    return {reply.ok != 0, std::string(reply.text), reply.generation, reply.processes,
            reply.bytes,   reply.duration_ms};
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

}  // namespace ckpt::test
