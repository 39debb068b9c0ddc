// Reachability of the new hosts through the remote shell (see host_probe.h).
#include "host_probe.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace ckpt {
namespace {

struct Probe {
  std::string host;
  pid_t pid = -1;
  int err_fd = -1;  // the remote shell's stderr
  std::string stderr_text;
  int status = -1;  // -1 while it runs
};

bool start(Probe* p, const std::vector<std::string>& rsh) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  std::vector<std::string> argv = rsh;
  argv.push_back(p->host);
  argv.push_back("true");
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  p->pid = fork();
  if (p->pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(fds[1], 2);
    execvp(cargv[0], cargv.data());
    std::string msg = std::string("cannot run ") + cargv[0] + ": " + std::strerror(errno);
    ssize_t ignored = write(2, msg.data(), msg.size());
    (void)ignored;
    _exit(127);
  }
  close(fds[1]);
  p->err_fd = fds[0];
  return p->pid > 0;
}

void drain(Probe* p) {
  char buf[1024];
  ssize_t n;
  while ((n = read(p->err_fd, buf, sizeof(buf))) > 0) p->stderr_text.append(buf, n);
  if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
    close(p->err_fd);
    p->err_fd = -1;
  }
}

std::string last_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  size_t nl = text.rfind('\n');
  return nl == std::string::npos ? text : text.substr(nl + 1);
}

}  // namespace

bool probe_hosts(const std::vector<std::string>& hosts, const std::vector<std::string>& rsh,
                 const std::string& shown, int timeout_s, std::string* err) {
  std::vector<Probe> probes(hosts.size());
  for (size_t i = 0; i < hosts.size(); i++) {
    probes[i].host = hosts[i];
    if (!start(&probes[i], rsh)) {
      *err = "cannot start the remote shell " + shown + " for host " + hosts[i];
      return false;
    }
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (size_t done = 0; done < probes.size();) {
    done = 0;
    for (Probe& p : probes) {
      if (p.err_fd >= 0) {
        pollfd pf{p.err_fd, POLLIN, 0};
        if (poll(&pf, 1, 0) > 0) drain(&p);
      }
      int st = 0;
      if (p.status < 0 && p.err_fd < 0 && waitpid(p.pid, &st, WNOHANG) == p.pid)
        p.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      if (p.status >= 0) done++;
    }
    if (done < probes.size() && std::chrono::steady_clock::now() > deadline) {
      for (Probe& p : probes)
        if (p.status < 0) {
          kill(p.pid, SIGKILL);
          waitpid(p.pid, nullptr, 0);
          if (p.err_fd >= 0) close(p.err_fd);
          p.status = 255;
          p.stderr_text = "no answer within " + std::to_string(timeout_s) + " s";
        }
      break;
    }
    if (done < probes.size()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (const Probe& p : probes) {
    if (p.status == 0) continue;
    std::string why = last_line(p.stderr_text);
    *err = "host " + p.host + " cannot be reached through `" + shown + "` (status " +
           std::to_string(p.status) + ")" + (why.empty() ? "" : ": " + why) +
           "; nothing was restarted";
    return false;
  }
  return true;
}

}  // namespace ckpt
