// The remote side of ckpt_rsh (see remote_side.h).
#include "remote_side.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "checkpoint_deferral.h"
#include "common/scoped_fd.h"
#include "launch_request.h"
#include "launcher/common/binary_paths.h"
#include "relay_stream.h"

namespace ckpt::rsh {
namespace {

int fail(const std::string& what) {
  std::fprintf(stderr, "ckpt_rsh: %s\n", what.c_str());
  return 255;
}

void to_dev_null(int fd, int flags) {
  int null = open("/dev/null", flags);
  if (null >= 0 && null != fd) {
    dup2(null, fd);
    close(null);
  }
}

// The shell that runs the command, as sshd picks it: the user's login
// shell, else $SHELL (under srun, the submitting shell's), else /bin/sh.
std::string login_shell() {
  if (const passwd* pw = getpwuid(getuid()); pw && pw->pw_shell && *pw->pw_shell)
    return pw->pw_shell;
  const char* shell = getenv("SHELL");
  return shell && *shell ? shell : "/bin/sh";
}

// The grandchild that becomes the relay: a new session, the job's
// environment, ckpt_launch. Its stderr stays the remote shell's until the
// relay connected (ckpt_launch's errors reach the caller).
[[noreturn]] void exec_relay(const LaunchRequest& req, const std::string& request) {
  to_dev_null(0, O_RDONLY);
  to_dev_null(1, O_WRONLY);
  for (const auto& [name, value] : req.env) setenv(name.c_str(), value.c_str(), 1);
  setenv("CKPT_RSH_SHELL", login_shell().c_str(), 1);
  std::string launch = self_dir() + "/ckpt_launch", self = self_dir() + "/ckpt_rsh";
  execl(launch.c_str(), launch.c_str(), "--", self.c_str(), "--relay", request.c_str(),
        static_cast<char*>(nullptr));
  std::fprintf(stderr, "ckpt_rsh: %s: cannot run %s: %s\n", req.host.c_str(), launch.c_str(),
               std::strerror(errno));
  _exit(255);
}

ScopedFd connect_back(const LaunchRequest& req, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  if (int rc = getaddrinfo(req.connect_host.c_str(), req.connect_port.c_str(), &hints, &list)) {
    *error = std::string("cannot resolve ") + req.connect_host + ": " + gai_strerror(rc);
    return ScopedFd();
  }
  ScopedFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int rc;
  do {
    rc = fd ? connect(fd.get(), list->ai_addr, list->ai_addrlen) : -1;
  } while (rc < 0 && errno == EINTR);
  if (rc != 0) {
    *error = "cannot connect back to " + req.connect_host + ":" + req.connect_port + ": " +
             std::strerror(errno);
    fd.reset();
  }
  freeaddrinfo(list);
  return fd;
}

struct Command {
  pid_t pid = -1;
  int in = -1, out = -1, err = -1;  // our ends of its stdin, stdout, stderr
};

Command start_command(const std::string& command) {
  int in[2], out[2], err[2];
  Command c;
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) return c;
  const char* shell_env = getenv("CKPT_RSH_SHELL");
  std::string shell = shell_env && *shell_env ? shell_env : "/bin/sh";
  c.pid = fork();
  if (c.pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    unsetenv("CKPT_RSH_SHELL");
    execl(shell.c_str(), shell.c_str(), "-c", command.c_str(), static_cast<char*>(nullptr));
    std::fprintf(stderr, "ckpt_rsh: cannot run %s: %s\n", shell.c_str(), std::strerror(errno));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  c.in = in[1];
  c.out = out[0];
  c.err = err[0];
  return c;
}

int exit_status(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 255;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Relays until the command closed stdout and stderr, then sends its status.
int pump(int sock, Command& c) {
  for (;;) {
    if (c.out < 0 && c.err < 0) {
      int status = exit_status(c.pid);
      send_frame(sock, FrameType::kExit, &status, sizeof(status));
      return 0;
    }
    pollfd p[3] = {{sock, POLLIN, 0}, {c.out, POLLIN, 0}, {c.err, POLLIN, 0}};
    if (poll(p, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return 255;
    }
    for (int k = 1; k <= 2; k++) {
      int& fd = k == 1 ? c.out : c.err;
      if (p[k].revents &&
          forward_read(fd, sock, k == 1 ? FrameType::kStdout : FrameType::kStderr) <= 0) {
        close(fd);
        fd = -1;
      }
    }
    if (!p[0].revents) continue;
    FrameType type{};
    std::string data;
    if (!recv_frame(sock, &type, &data)) {
      kill(c.pid, SIGHUP);  // the launching side is gone, as when ssh's connection drops
      return 255;
    }
    if (type == FrameType::kStdin && c.in >= 0) write_all(c.in, data.data(), data.size());
    if (type == FrameType::kStdinEof && c.in >= 0) {
      close(c.in);
      c.in = -1;
    }
  }
}

}  // namespace

int serve(const std::string& request) {
  auto req = decode(request);
  if (!req) return fail("--serve: a malformed launch request");
  pid_t child = fork();
  if (child < 0) return fail(std::string("fork: ") + std::strerror(errno));
  if (child == 0) {
    setsid();
    pid_t relay = fork();
    if (relay == 0) exec_relay(*req, request);
    _exit(relay < 0 ? 255 : 0);
  }
  return exit_status(child);
}

int relay(const std::string& request) {
  defer_checkpoints(true);  // until the remote shell's channel is dropped
  auto req = decode(request);
  if (!req) return fail("--relay: a malformed launch request");
  std::string error;
  ScopedFd sock = connect_back(*req, &error);
  if (!sock) return fail(req->host + ": " + error);
  if (!send_frame(sock.get(), FrameType::kHello, req->cookie.data(), req->cookie.size()))
    return fail(req->host + ": the launching side hung up");
  Command c = start_command(req->command);
  if (c.pid < 0) return fail(req->host + ": cannot start " + req->command);
  to_dev_null(2, O_WRONLY);  // the remote shell may end now
  defer_checkpoints(false);
  return pump(sock.get(), c);
}

}  // namespace ckpt::rsh
