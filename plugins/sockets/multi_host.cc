// Restart of a job that ran on several hosts (see multi_host.h).
#include "multi_host.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace ckpt {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= s.size()) {
    size_t end = s.find(sep, at);
    if (end == std::string::npos) end = s.size();
    if (end > at) out.push_back(s.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : sep) + x;
  return out;
}

void add_to(HostsPlan* plan, const std::string& new_host, const std::string& old_host) {
  for (auto& [host, olds] : plan->groups)
    if (host == new_host) return olds.push_back(old_host);
  plan->groups.push_back({new_host, {old_host}});
}

std::string this_host() {
  char name[256] = {};
  gethostname(name, sizeof(name) - 1);
  return name;
}

}  // namespace

bool plan_hosts(const std::string& spec, const std::vector<std::string>& old_hosts, HostsPlan* plan,
                std::string* err) {
  std::vector<std::string> items = split(spec, ',');
  if (items.empty()) {
    *err = "--hosts needs OLD=NEW,... or NEW,...";
    return false;
  }
  std::set<std::string> placed;
  bool pairs = items[0].find('=') != std::string::npos;
  std::vector<std::string> olds = old_hosts;
  std::sort(olds.begin(), olds.end());
  for (size_t i = 0; i < items.size(); i++) {
    size_t eq = items[i].find('=');
    if ((eq != std::string::npos) != pairs) {
      *err = "--hosts mixes OLD=NEW and NEW entries: " + spec;
      return false;
    }
    if (!pairs) {
      if (i >= olds.size()) break;
      // The last new host takes every old host left.
      for (size_t k = i; k < (i + 1 == items.size() ? olds.size() : i + 1); k++) {
        add_to(plan, items[i], olds[k]);
        placed.insert(olds[k]);
      }
      continue;
    }
    std::string from = items[i].substr(0, eq), to = items[i].substr(eq + 1);
    if (std::find(olds.begin(), olds.end(), from) == olds.end()) {
      *err = "--hosts names " + from +
             ", a host the checkpoint has no process of (it has: " + join(olds, ", ") + ")";
      return false;
    }
    if (to.empty() || !placed.insert(from).second) {
      *err = "--hosts places " + from + " twice or nowhere";
      return false;
    }
    add_to(plan, to, from);
  }
  for (const auto& h : olds)
    if (!placed.count(h)) {
      *err = "--hosts does not say where the processes of host " + h + " go";
      return false;
    }
  return true;
}

std::vector<std::string> remote_hosts(const HostsPlan& plan) {
  std::string me = this_host();
  std::vector<std::string> out;
  for (const auto& group : plan.groups)
    if (group.first != me && group.first != "localhost") out.push_back(group.first);
  return out;
}

bool read_hostfile(const std::string& path, std::string* spec, std::string* err) {
  std::ifstream in(path);
  if (!in) {
    *err = "--hostfile " + path + ": " + std::strerror(errno);
    return false;
  }
  spec->clear();
  for (std::string line; std::getline(in, line);) {
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::string host;
    if (words >> host) *spec += (spec->empty() ? "" : ",") + host;
  }
  if (spec->empty()) {
    *err = "--hostfile " + path + " names no host";
    return false;
  }
  return true;
}

namespace {

// The restart workers, for forward_signal (a signal handler reads them).
constexpr size_t kMaxWorkers = 256;
volatile pid_t g_workers[kMaxWorkers];
volatile size_t g_worker_count = 0;

void forward_signal(int sig) {
  int saved = errno;
  for (size_t i = 0; i < g_worker_count; i++)
    if (g_workers[i] > 0) kill(g_workers[i], sig);
  errno = saved;
}

constexpr int kSchedulerSignals[] = {SIGUSR1, SIGUSR2, SIGTERM, SIGHUP, SIGXCPU, SIGALRM};

}  // namespace

// The front end passes the signals a scheduler sends to warn or preempt a
// job (SIGUSR1 of `--signal=B:USR1@N` forwarded by the batch shell, SIGTERM
// of a preemption, ...) on to its workers, whose restored processes take
// them (the local one is restored here; a remote one's srun or ssh passes
// them on or ends the connection), instead of dying of them and ending the
// batch job before the checkpoint and requeue are done.
void forward_scheduler_signals() {
  struct sigaction sa = {};
  sa.sa_handler = forward_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int sig : kSchedulerSignals) sigaction(sig, &sa, nullptr);
}

int run_on_hosts(const HostsPlan& plan, const HostsLaunch& launch, std::string* err) {
  std::string me = this_host();
  std::vector<pid_t> kids;
  for (const auto& [host, olds] : plan.groups) {
    std::vector<std::string> argv;
    if (host != me && host != "localhost") {
      argv = launch.rsh;
      argv.push_back(host);
    }
    argv.insert(argv.end(), launch.base_args.begin(), launch.base_args.end());
    for (const std::string& a :
         {std::string("--only-host"), join(olds, ","), std::string("--round"), launch.round})
      argv.push_back(a);
    argv.insert(argv.end(), launch.images.begin(), launch.images.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
      for (int sig : kSchedulerSignals) signal(sig, SIG_DFL);
      execvp(cargv[0], cargv.data());
      std::string line = "ckpt_restart: cannot run " + argv[0] + " for host " + host + ": " +
                         std::strerror(errno) + "\n";
      ssize_t ignored = write(2, line.data(), line.size());
      (void)ignored;
      _exit(127);
    }
    if (pid < 0) {
      *err = std::string("fork: ") + std::strerror(errno);
      return 1;
    }
    kids.push_back(pid);
    if (g_worker_count < kMaxWorkers) g_workers[g_worker_count++] = pid;
  }
  forward_scheduler_signals();
  int result = 0;
  for (size_t i = 0; i < kids.size(); i++) {
    int status = 0;
    while (waitpid(kids[i], &status, 0) < 0 && errno == EINTR) {
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code != 0 && result == 0) result = code;
  }
  return result;
}

}  // namespace ckpt
