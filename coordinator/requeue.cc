// Asking the scheduler to requeue the job (see requeue.h).
#include "requeue.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "common/scoped_fd.h"
#include "log.h"

namespace ckpt {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

pid_t spawn(const std::vector<std::string>& args, int out_fd) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
  ::dup2(out_fd, STDOUT_FILENO);
  ::dup2(out_fd, STDERR_FILENO);
  ::signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);  // SIGTERM is blocked while we run
  ::execvp(argv[0], argv.data());
  std::fprintf(stderr, "cannot run %s: %s\n", argv[0], std::strerror(errno));
  ::_exit(127);
}

// Reads the child's output until EOF or the deadline; logs each line.
std::string collect_output(int fd, std::chrono::steady_clock::time_point deadline) {
  std::string all, line;
  char buf[512];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    all.append(buf, static_cast<size_t>(n));
  }
  size_t pos = 0;
  while (pos < all.size()) {
    size_t end = all.find('\n', pos);
    if (end == std::string::npos) end = all.size();
    line = all.substr(pos, end - pos);
    if (!line.empty()) log_line("requeue: %s", line.c_str());
    pos = end + 1;
  }
  return all;
}

}  // namespace

std::vector<std::string> requeue_command_from_env(std::string* why) {
  if (std::string cmd = env("CKPT_REQUEUE_COMMAND"); !cmd.empty()) return {"/bin/sh", "-c", cmd};
  if (std::string id = env("SLURM_JOB_ID"); !id.empty()) return {"scontrol", "requeue", id};
  if (std::string id = env("PBS_JOBID"); !id.empty()) return {"qrerun", id};
  if (std::string id = env("LSB_JOBID"); !id.empty()) return {"brequeue", id};
  *why = "not in a batch job (SLURM_JOB_ID, PBS_JOBID, LSB_JOBID and CKPT_REQUEUE_COMMAND unset)";
  return {};
}

std::string run_requeue(const std::vector<std::string>& argv, int timeout_s) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
  ScopedFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  pid_t pid = spawn(argv, write_end.get());
  if (pid < 0) return std::string("fork: ") + std::strerror(errno);
  write_end.reset();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  std::string output = collect_output(read_end.get(), deadline);
  int status = 0;
  pid_t got = 0;
  while ((got = ::waitpid(pid, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < deadline)
    ::usleep(20000);
  if (got == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return argv[0] + " did not finish within " + std::to_string(timeout_s) + " s";
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  std::string how = WIFEXITED(status) ? "exited " + std::to_string(WEXITSTATUS(status))
                                      : "killed by signal " + std::to_string(WTERMSIG(status));
  while (!output.empty() && output.back() == '\n') output.pop_back();
  size_t cut = output.rfind('\n');
  std::string last = cut == std::string::npos ? output : output.substr(cut + 1);
  return argv[0] + " " + how + (last.empty() ? "" : ": " + last);
}

}  // namespace ckpt
