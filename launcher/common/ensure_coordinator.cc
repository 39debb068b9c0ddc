// Finding or starting this job's coordinator (see ensure_coordinator.h).
#include "ensure_coordinator.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "binary_paths.h"
#include "coordinator_link.h"

extern char** environ;

namespace ckpt {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(10);
// How long a coordinator we found stays for the processes we are about to
// start (a restart reads its images first): until one registers, at most this.
constexpr uint32_t kHoldSeconds = 600;

enum class Probe {
  kHeld,      // a coordinator of our job answered and will stay for our processes
  kNone,      // nothing listens there
  kOtherJob,  // wrong job secret
  kExiting,   // a coordinator of our job, on its way out (no answer to CmdHold)
  kBroken,    // something there does not speak the protocol
};

// Connects as a command and asks the coordinator to stay (CmdHold): is a
// coordinator of our job there, and will it still be there when our
// processes register?
Probe probe(const Settings& settings, const Secret& secret, std::string* error) {
  CoordinatorLink link;
  LinkStatus st = link.open(settings, secret, proto::Role::kCommand);
  *error = link.error();
  if (st == LinkStatus::kUnreachable) return Probe::kNone;
  if (st == LinkStatus::kRejected) return Probe::kOtherJob;
  if (st == LinkStatus::kBroken) return Probe::kBroken;
  link.set_timeout_ms(10000);
  std::optional<Frame> reply;
  if (link.send_message(proto::Msg::kCmdHold, proto::CmdHold{kHoldSeconds})) reply = link.recv();
  proto::CmdReply r;
  if (reply && reply->type == proto::Msg::kCmdReply && decode_payload(*reply, &r) && r.ok)
    return Probe::kHeld;
  *error = "the coordinator at " + endpoint(settings) + " is exiting";
  return Probe::kExiting;
}

// A coordinator that already ran before us gets CKPT_INTERVAL, if set (one
// we start reads it from its environment).
std::string pass_interval(const Settings& settings, const Secret& secret) {
  const char* text = std::getenv("CKPT_INTERVAL");
  if (!text || !*text) return "";
  char* end = nullptr;
  unsigned long seconds = std::strtoul(text, &end, 10);
  if (*end != '\0' || seconds > UINT32_MAX)
    return std::string("CKPT_INTERVAL=") + text + ": not a number of seconds";
  CoordinatorLink link;
  std::optional<Frame> reply;
  if (link.open(settings, secret, proto::Role::kCommand) == LinkStatus::kOk &&
      link.send_message(proto::Msg::kCmdInterval,
                        proto::CmdInterval{static_cast<uint32_t>(seconds)}))
    reply = link.recv();
  proto::CmdReply r;
  if (!reply || reply->type != proto::Msg::kCmdReply || !decode_payload(*reply, &r) || !r.ok)
    return "cannot set the checkpoint interval of the coordinator at " + endpoint(settings) +
           (link.error().empty() ? "" : ": " + link.error());
  return "";
}

std::string other_job(const Settings& settings) {
  return "a coordinator of another job is listening on port " + std::to_string(settings.port) +
         " (wrong job secret); use another --port or CKPT_COORD_PORT";
}

// Runs `path --daemon ...` with CKPT_SECRET in its environment and waits for
// the parent half to exit (it exits once the daemon listens). Returns its
// exit status, or -1 if it could not run (*error says why).
int run_daemon(const std::string& path, const Settings& settings, const Secret& secret,
               std::string* error) {
  std::string port = std::to_string(settings.port);
  std::vector<std::string> args = {path, "--daemon",   "--exit-on-last", "--port",
                                   port, "--ckpt-dir", settings.dir};
  std::vector<std::string> env_strings = {"CKPT_SECRET=" + to_hex(secret)};
  for (char** e = environ; *e; e++) {
    if (std::strncmp(*e, "CKPT_SECRET=", 12) != 0) env_strings.push_back(*e);
  }
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) {
    *error = std::string("cannot start ckpt_coordinator: fork: ") + std::strerror(errno);
    return -1;
  }
  if (pid == 0) {
    ::execve(path.c_str(), argv.data(), envp.data());
    std::fprintf(stderr, "ckpt: cannot run %s: %s\n", path.c_str(), std::strerror(errno));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

bool is_local_host(const std::string& host) {
  if (host.empty() || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0)
    return true;
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) == 0 && host == name) return true;
  return false;
}

std::string ensure_coordinator(const Settings& settings, const Secret& secret, bool* started) {
  return ensure_coordinator(settings, secret, started, find_tool("ckpt_coordinator"));
}

// Until a coordinator of our job holds for us: one that is exiting is waited
// out (it closes its port first), and then, or when none answers, one is
// started on this machine. `coordinator_path` "" means none can be started.
std::string ensure_coordinator(const Settings& settings, const Secret& secret, bool* started,
                               const std::string& coordinator_path) {
  if (started) *started = false;
  bool ours = false;     // a coordinator we started answered
  bool leaving = false;  // we met one on its way out: ours may find its port still taken
  int rc = -2;           // exit status of our last start attempt
  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  for (;;) {
    std::string error;
    Probe st = probe(settings, secret, &error);
    if (st == Probe::kHeld) {
      if (started) *started = ours;
      return ours ? "" : pass_interval(settings, secret);
    }
    if (st == Probe::kOtherJob) return other_job(settings);
    if (st == Probe::kBroken) return error;
    bool late = std::chrono::steady_clock::now() >= deadline;
    if (st == Probe::kExiting) {
      leaving = true;
      if (late) return error + " and did not make room for a new one within 10 s";
    } else if (!is_local_host(settings.host)) {
      return error + " (" + settings.host + " is not this machine, so none was started)";
    } else if (coordinator_path.empty()) {
      return "no coordinator at " + endpoint(settings) +
             ", and ckpt_coordinator was not found next to " + self_dir();
    } else if (settings.port == 0) {
      return "cannot start a coordinator on port 0: choose a port";
    } else if (rc == 0 && late) {
      return coordinator_path + " started but did not answer on " + endpoint(settings) +
             " within 10 s: " + error;
    } else if (rc != 0 && rc != -2 && (late || !leaving)) {
      return coordinator_path + " failed to start (exit " + std::to_string(rc) +
             ", see the message above)";
    } else if (rc != 0) {
      // None answers (or ours lost the port to one on its way out): start one.
      rc = run_daemon(coordinator_path, settings, secret, &error);
      if (rc == -1) return error;
      ours = rc == 0;
      if (!ours) std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace ckpt
