// The launching side of ckpt_rsh (see local_side.h).
#include "local_side.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "checkpoint_deferral.h"
#include "common/scoped_fd.h"
#include "launch_request.h"
#include "launcher/common/binary_paths.h"
#include "launcher/common/route_address.h"
#include "plugins/mpi/mpi_environment.h"
#include "relay_stream.h"

extern char** environ;

namespace ckpt::rsh {
namespace {

using Clock = std::chrono::steady_clock;

// Not the job's own variables: the remote ckpt_launch reads the secret from
// the shared checkpoint directory, and the exec state is this process's.
bool private_variable(const std::string& name) {
  return name == "CKPT_SECRET" || name.starts_with("CKPT_EXEC_");
}

// The variables the remote side runs under: the job's CKPT_* (the
// coordinator at an address the host reaches), the MPI settings ckpt_launch
// manages, and the remote shell settings, so that remote daemons that start
// further daemons wrap them too.
std::vector<std::pair<std::string, std::string>> forwarded_env(const std::string& coord) {
  std::vector<std::string> names = mpi_environment_names();
  for (const char* n : {"OMPI_MCA_plm_rsh_agent", "HYDRA_LAUNCHER_EXEC", "HYDRA_BOOTSTRAP_EXEC",
                        "OMPI_ALLOW_RUN_AS_ROOT", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"})
    names.emplace_back(n);
  std::vector<std::pair<std::string, std::string>> out;
  for (char** e = environ; *e; e++) {
    std::string entry = *e;
    std::string name = entry.substr(0, entry.find('='));
    bool wanted = name.starts_with("CKPT_") && !private_variable(name) && name != "CKPT_COORD_HOST";
    for (const auto& n : names) wanted |= name == n;
    if (wanted && entry.size() > name.size()) out.emplace_back(name, entry.substr(name.size() + 1));
  }
  out.emplace_back("CKPT_COORD_HOST", coord);
  out.emplace_back("CKPT_MPI_ACROSS_HOSTS", "1");
  return out;
}

std::string random_cookie() {
  unsigned char bytes[16] = {};
  if (getrandom(bytes, sizeof(bytes), 0) != sizeof(bytes)) {
    auto t = Clock::now().time_since_epoch().count() ^ getpid();
    std::memcpy(bytes, &t, sizeof(t));
  }
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) out += {digits[b >> 4], digits[b & 15]};
  return out;
}

std::string find_in_path(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (size_t at = 0; at <= dirs.size();) {
    size_t end = dirs.find(':', at);
    if (end == std::string::npos) end = dirs.size();
    std::string cand = dirs.substr(at, end - at) + "/" + program;
    if (access(cand.c_str(), X_OK) == 0) return cand;
    at = end + 1;
  }
  return program;
}

// Starts argv outside the computation: a raw clone and execve that the
// runtime's fork and exec wrappers do not see, with the runtime taken out of
// the environment, stdin from /dev/null. The remote shell is never part of
// a checkpoint.
pid_t spawn_outside(const std::vector<std::string>& argv) {
  std::vector<std::string> env;
  for (char** e = environ; *e; e++) {
    std::string entry = *e;
    std::string name = entry.substr(0, entry.find('='));
    if (private_variable(name) || name == "LD_PRELOAD") continue;
    env.push_back(entry);
  }
  std::string path = find_in_path(argv[0]);
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (auto& e : env) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  std::fflush(nullptr);
  long pid = syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid == 0) {
    long null = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY);
    if (null >= 0) syscall(SYS_dup3, null, 0, 0);
    syscall(SYS_execve, path.c_str(), cargv.data(), cenv.data());
    static const char msg[] = "ckpt_rsh: cannot run the remote shell\n";
    syscall(SYS_write, 2, msg, sizeof(msg) - 1);
    syscall(SYS_exit_group, 255);
  }
  return static_cast<pid_t>(pid);
}

// The exit status of `pid` if it ended (reaped), else -1.
int ended(pid_t pid) {
  int status = 0;
  pid_t r = waitpid(pid, &status, WNOHANG);
  if (r != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int timeout_seconds() {
  const char* v = getenv("CKPT_RSH_TIMEOUT");
  int s = v ? std::atoi(v) : 0;
  return s > 0 ? s : 60;
}

// Waits for the remote side's connection with the right cookie while the
// remote shell runs. Returns the connection, or an invalid fd with *status
// set (the remote shell's failure status, or 255) and the message printed.
ScopedFd accept_remote(int listener, pid_t shell, const LaunchRequest& req, int* status) {
  auto deadline = Clock::now() + std::chrono::seconds(timeout_seconds());
  Clock::time_point shell_gone{};
  for (;;) {
    pollfd p{listener, POLLIN, 0};
    if (poll(&p, 1, 100) > 0) {
      ScopedFd fd(accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
      FrameType type{};
      std::string cookie;
      timeval tv{10, 0};
      if (fd) setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      if (fd && recv_frame(fd.get(), &type, &cookie) && type == FrameType::kHello &&
          cookie == req.cookie) {
        timeval none{0, 0};
        setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
        return fd;
      }
    }
    if (shell_gone == Clock::time_point{}) {
      int st = ended(shell);
      if (st > 0) {
        *status = st;  // the remote shell said why on stderr
        std::fprintf(stderr, "ckpt_rsh: %s: the remote shell failed (status %d)\n",
                     req.host.c_str(), st);
        return ScopedFd();
      }
      if (st == 0) shell_gone = Clock::now();
    } else if (Clock::now() - shell_gone > std::chrono::seconds(3)) {
      std::fprintf(stderr, "ckpt_rsh: %s: the remote side ended without connecting back to %s:%s\n",
                   req.host.c_str(), req.connect_host.c_str(), req.connect_port.c_str());
      *status = 255;
      return ScopedFd();
    }
    if (Clock::now() > deadline) {
      std::fprintf(stderr, "ckpt_rsh: %s: no connection from the remote side within %d s\n",
                   req.host.c_str(), timeout_seconds());
      kill(shell, SIGKILL);
      waitpid(shell, nullptr, 0);
      *status = 255;
      return ScopedFd();
    }
  }
}

// The remote shell ends once the remote side dropped its channel; reap it.
void reap_shell(pid_t shell) {
  auto deadline = Clock::now() + std::chrono::seconds(30);
  while (ended(shell) < 0) {
    if (Clock::now() > deadline) {
      kill(shell, SIGKILL);
      waitpid(shell, nullptr, 0);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Carries stdin to the remote side and its stdout, stderr and exit status
// back, until the exit status comes.
int pump(int sock, const std::string& host) {
  bool stdin_open = true;
  for (;;) {
    pollfd p[2] = {{sock, POLLIN, 0}, {stdin_open ? 0 : -1, POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p[1].revents) {
      if (forward_read(0, sock, FrameType::kStdin) <= 0) {
        send_frame(sock, FrameType::kStdinEof, nullptr, 0);
        stdin_open = false;
      }
    }
    if (!p[0].revents) continue;
    FrameType type{};
    std::string data;
    if (!recv_frame(sock, &type, &data)) break;
    if (type == FrameType::kStdout) write_all(1, data.data(), data.size());
    if (type == FrameType::kStderr) write_all(2, data.data(), data.size());
    if (type == FrameType::kExit && data.size() == 4) {
      int status = 0;
      std::memcpy(&status, data.data(), 4);
      return status;
    }
  }
  std::fprintf(stderr, "ckpt_rsh: %s: the connection to the remote side ended\n", host.c_str());
  return 255;
}

ScopedFd listen_on(const std::string& address, std::string* port, std::string* error) {
  ScopedFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, address.c_str(), &a.sin_addr);
  socklen_t len = sizeof(a);
  if (!fd || bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      listen(fd.get(), 4) != 0 || getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len)) {
    *error = "cannot listen on " + address + ": " + std::strerror(errno);
    return ScopedFd();
  }
  *port = std::to_string(ntohs(a.sin_port));
  return fd;
}

int fail(const Invocation& inv, const std::string& what) {
  std::fprintf(stderr, "ckpt_rsh: %s: %s\n", inv.host.c_str(), what.c_str());
  return 255;
}

}  // namespace

int run_local_side(const Invocation& inv) {
  const char* shell_line = getenv("CKPT_RSH");
  std::vector<std::string> shell = words(shell_line && *shell_line ? shell_line : "ssh");
  std::string error;
  std::string here = local_address_towards(host_name(inv.host), &error);
  if (here.empty()) return fail(inv, error);
  const char* coord_env = getenv("CKPT_COORD_HOST");
  std::string coord = coord_env && !is_loopback_name(coord_env) ? coord_env : here;

  LaunchRequest req;
  ScopedFd listener = listen_on(here, &req.connect_port, &error);
  if (!listener) return fail(inv, error);
  req.env = forwarded_env(coord);
  req.connect_host = here;
  req.cookie = random_cookie();
  req.host = inv.host;
  for (const auto& w : inv.command) req.command += (req.command.empty() ? "" : " ") + w;

  std::vector<std::string> argv = shell;
  argv.insert(argv.end(), inv.options.begin(), inv.options.end());
  argv.push_back(inv.host);
  argv.insert(argv.end(), {self_dir() + "/ckpt_rsh", "--serve", encode(req)});

  defer_checkpoints(true);  // no checkpoint while a process outside it is our child
  pid_t pid = spawn_outside(argv);
  if (pid < 0)
    return fail(inv, std::string("cannot start the remote shell: ") + std::strerror(errno));
  int status = 255;
  ScopedFd sock = accept_remote(listener.get(), pid, req, &status);
  if (sock) reap_shell(pid);
  listener.reset();
  defer_checkpoints(false);
  if (!sock) return status;
  return pump(sock.get(), inv.host);
}

}  // namespace ckpt::rsh
