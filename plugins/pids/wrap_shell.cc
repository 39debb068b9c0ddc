// system(), popen() and pclose(), made here on posix_spawn and the waitpid
// wrapper. glibc's own versions wait for their shell inside libc with the
// real pid they spawned; a checkpoint taken while they wait, restarted,
// gives that shell another real pid and the kernel answers ECHILD (system()
// returned -1, pclose() -1). Ours wait for the virtual pid through
// waitpid() (wrap_wait.cc), translated afresh after a restart.
//
// Same contract as glibc's: the shell is /bin/sh -c; system() ignores
// SIGINT and SIGQUIT and blocks SIGCHLD while it waits (counted, for
// concurrent calls) and the shell gets them back; system(NULL) says whether
// a shell runs; a popen() child closes the streams of earlier popen()s; the
// mode is "r" or "w", with "e" for close-on-exec.
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/shim/real_functions.h"
#include "virtual_pids.h"

extern char** environ;

namespace {

constexpr char kShell[] = "/bin/sh";

// Spawns `sh -c -- line` with `fa` and `attr`; its virtual pid, or -1
// with errno.
pid_t spawn_shell(const char* line, const posix_spawn_file_actions_t* fa,
                  const posix_spawnattr_t* attr) {
  char* argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"), const_cast<char*>("--"),
                  const_cast<char*>(line), nullptr};
  pid_t pid = 0;
  int err = posix_spawn(&pid, kShell, fa, attr, argv, environ);
  if (err != 0) {
    errno = err;
    return -1;
  }
  return ckpt::virtual_pid_result(pid);
}

// Waits for `pid` (virtual) through the waitpid wrapper; its status, or -1.
int wait_shell(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return status;
}

// system()'s signal handling, shared by concurrent calls: the first one in
// ignores SIGINT/SIGQUIT, the last one out puts them back.
pthread_mutex_t g_system_lock = PTHREAD_MUTEX_INITIALIZER;
int g_system_calls = 0;
struct sigaction g_saved_int, g_saved_quit;

void enter_system(sigset_t* old_mask) {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  pthread_mutex_lock(&g_system_lock);
  if (g_system_calls++ == 0) {
    struct sigaction ignore = {};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGINT, &ignore, &g_saved_int);
    sigaction(SIGQUIT, &ignore, &g_saved_quit);
  }
  pthread_mutex_unlock(&g_system_lock);
  pthread_sigmask(SIG_BLOCK, &chld, old_mask);
}

void leave_system(const sigset_t* old_mask) {
  pthread_mutex_lock(&g_system_lock);
  if (--g_system_calls == 0) {
    sigaction(SIGINT, &g_saved_int, nullptr);
    sigaction(SIGQUIT, &g_saved_quit, nullptr);
  }
  pthread_mutex_unlock(&g_system_lock);
  pthread_sigmask(SIG_SETMASK, old_mask, nullptr);
}

int run_system(const char* line) {
  sigset_t old_mask;
  enter_system(&old_mask);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  // The shell gets SIGINT and SIGQUIT back unless the caller ignored them.
  if (g_saved_int.sa_handler != SIG_IGN) sigaddset(&defaults, SIGINT);
  if (g_saved_quit.sa_handler != SIG_IGN) sigaddset(&defaults, SIGQUIT);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &old_mask);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = spawn_shell(line, nullptr, &attr);
  posix_spawnattr_destroy(&attr);
  // A shell that cannot start is reported as one that exited with 127.
  int status = pid < 0 ? W_EXITCODE(127, 0) : wait_shell(pid);
  int saved_errno = errno;
  leave_system(&old_mask);
  errno = saved_errno;
  return status;
}

// The streams popen() made here, with their shells' virtual pids.
struct Piped {
  FILE* stream;
  pid_t pid;
  Piped* next;
};
pthread_mutex_t g_piped_lock = PTHREAD_MUTEX_INITIALIZER;
Piped* g_piped = nullptr;

// Takes `stream` out of the list; its shell's pid, or 0 if not ours.
pid_t forget_piped(FILE* stream) {
  pthread_mutex_lock(&g_piped_lock);
  pid_t pid = 0;
  for (Piped** p = &g_piped; *p; p = &(*p)->next) {
    if ((*p)->stream != stream) continue;
    Piped* gone = *p;
    *p = gone->next;
    pid = gone->pid;
    free(gone);
    break;
  }
  pthread_mutex_unlock(&g_piped_lock);
  return pid;
}

// Parses popen()'s mode: false (EINVAL) unless it is r or w, with e.
bool parse_mode(const char* mode, bool* reading, bool* cloexec) {
  if (!mode || (mode[0] != 'r' && mode[0] != 'w')) return false;
  *reading = mode[0] == 'r';
  *cloexec = false;
  for (const char* c = mode + 1; *c; c++) {
    if (*c != 'e') return false;
    *cloexec = true;
  }
  return true;
}

// Spawns the shell of a popen() with `child_end` as its stdin or stdout,
// closing the streams of earlier popen()s in it; under g_piped_lock.
pid_t spawn_piped(const char* command, int child_end, int child_fd) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, child_end, child_fd);  // clears close-on-exec
  for (Piped* p = g_piped; p; p = p->next) {
    int fd = fileno(p->stream);
    if (fd >= 0 && fd != child_fd) posix_spawn_file_actions_addclose(&fa, fd);
  }
  pid_t pid = spawn_shell(command, &fa, nullptr);
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

}  // namespace

CKPT_WRAPPER int system(const char* line) {
  if (!line) return run_system("exit 0") == 0;
  return run_system(line);
}

CKPT_WRAPPER FILE* popen(const char* command, const char* mode) {
  bool reading, cloexec;
  if (!parse_mode(mode, &reading, &cloexec)) {
    errno = EINVAL;
    return nullptr;
  }
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) return nullptr;
  int parent_end = reading ? ends[0] : ends[1];
  int child_end = reading ? ends[1] : ends[0];
  auto* entry = static_cast<Piped*>(malloc(sizeof(Piped)));
  FILE* stream = entry ? fdopen(parent_end, reading ? "r" : "w") : nullptr;
  if (!stream) {
    int saved_errno = entry ? errno : ENOMEM;
    free(entry);
    close(ends[0]);
    close(ends[1]);
    errno = saved_errno;
    return nullptr;
  }
  pthread_mutex_lock(&g_piped_lock);
  pid_t pid = spawn_piped(command, child_end, reading ? 1 : 0);
  int saved_errno = errno;
  close(child_end);
  if (pid < 0) {
    pthread_mutex_unlock(&g_piped_lock);
    fclose(stream);
    free(entry);
    errno = saved_errno;
    return nullptr;
  }
  if (!cloexec) fcntl(parent_end, F_SETFD, 0);
  *entry = {stream, pid, g_piped};
  g_piped = entry;
  pthread_mutex_unlock(&g_piped_lock);
  return stream;
}

CKPT_WRAPPER int pclose(FILE* stream) {
  pid_t pid = forget_piped(stream);
  if (pid == 0) return ckpt::real().pclose(stream);  // made before us, or not a popen stream
  fclose(stream);
  return wait_shell(pid);
}
