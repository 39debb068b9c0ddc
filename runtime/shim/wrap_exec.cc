// The runtime follows exec: the new program gets libckpt preloaded, the
// current coordinator settings and this process's identity (virtual pid,
// parent, restart count, the pid table), so that it registers as the same
// process. Before the exec the coordinator hears Execing, so a checkpoint
// in progress waits for the successor instead of failing; the calling
// thread defers the checkpoint signal until the exec is done or has failed.
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "ckpt/sys.h"
#include "real_functions.h"
#include "runtime/core/checkpoint_thread.h"
#include "runtime/core/coordinator_client.h"
#include "runtime/core/exec_identity.h"
#include "runtime/core/runtime.h"

extern char** environ;

using ckpt::runtime;

namespace {

// Blocks the suspend signal in this thread for the lifetime of the guard,
// once no checkpoint is in progress (one that resumed this process early
// still needs its connection to report the image).
class DeferCheckpoint {
 public:
  DeferCheckpoint() {
    ckpt::Runtime& rt = runtime();
    uint64_t block = 1ull << (ckpt::kSuspendSignal - 1);
    for (int tries = 0;; tries++) {
      ckpt::wait_checkpoint_idle(rt, 60000);
      ckpt::sys::call4(ckpt::sys::kRtSigprocmask, SIG_BLOCK, reinterpret_cast<long>(&block),
                       reinterpret_cast<long>(&old_), 8);
      if (!rt.checkpoint_active.load() || tries == 100) break;
      restore();  // a checkpoint began meanwhile: let it stop us first
    }
  }
  ~DeferCheckpoint() { restore(); }

 private:
  void restore() {
    ckpt::sys::call4(ckpt::sys::kRtSigprocmask, SIG_SETMASK, reinterpret_cast<long>(&old_), 0, 8);
  }
  uint64_t old_ = 0;
};

void announce_exec() {
  ckpt::Runtime& rt = runtime();
  ckpt::ByteWriter empty(nullptr, 0);
  ckpt::coordinator_send(rt, ckpt::proto::Msg::kExecing, empty);
}

template <typename Exec>
int exec_under_control(char* const envp[], Exec&& exec) {
  if (!runtime().ready) return exec(envp);
  std::vector<std::string> storage = ckpt::exec_environment(runtime(), envp);
  std::vector<char*> env;
  for (auto& s : storage) env.push_back(s.data());
  env.push_back(nullptr);
  DeferCheckpoint defer;
  announce_exec();
  return exec(env.data());
}

std::vector<char*> collect_args(const char* first, va_list ap, char*** envp_out) {
  std::vector<char*> args{const_cast<char*>(first)};
  while (char* a = va_arg(ap, char*)) args.push_back(a);
  args.push_back(nullptr);
  if (envp_out) *envp_out = va_arg(ap, char**);
  return args;
}

}  // namespace

CKPT_WRAPPER int execve(const char* path, char* const argv[], char* const envp[]) {
  return exec_under_control(envp,
                            [&](char* const* e) { return ckpt::real().execve(path, argv, e); });
}

CKPT_WRAPPER int execv(const char* path, char* const argv[]) { return execve(path, argv, environ); }

CKPT_WRAPPER int execvpe(const char* file, char* const argv[], char* const envp[]) {
  return exec_under_control(envp,
                            [&](char* const* e) { return ckpt::real().execvpe(file, argv, e); });
}

CKPT_WRAPPER int execvp(const char* file, char* const argv[]) {
  return execvpe(file, argv, environ);
}

CKPT_WRAPPER int fexecve(int fd, char* const argv[], char* const envp[]) {
  return exec_under_control(envp,
                            [&](char* const* e) { return ckpt::real().fexecve(fd, argv, e); });
}

CKPT_WRAPPER int execl(const char* path, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  std::vector<char*> args = collect_args(arg, ap, nullptr);
  va_end(ap);
  return execve(path, args.data(), environ);
}

CKPT_WRAPPER int execlp(const char* file, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  std::vector<char*> args = collect_args(arg, ap, nullptr);
  va_end(ap);
  return execvpe(file, args.data(), environ);
}

CKPT_WRAPPER int execle(const char* path, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  char** envp = nullptr;
  std::vector<char*> args = collect_args(arg, ap, &envp);
  va_end(ap);
  return execve(path, args.data(), envp);
}
