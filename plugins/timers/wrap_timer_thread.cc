// SIGEV_THREAD POSIX timers without glibc's helper thread.
//
// glibc runs SIGEV_THREAD timers through an internal helper thread that
// blocks every signal, the runtime's suspend signal included, so it could
// never be stopped for a checkpoint. Instead the runtime serves them: the
// kernel timer signals (SIGEV_THREAD_ID) one runtime-made thread that waits
// for kTimerSignal and starts the notification function in a new thread,
// as glibc would. That thread is an ordinary thread for the suspend
// machinery, so it is checkpointed and recreated like the application's,
// and restored timers are re-aimed at it (time_state.cc).
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

#include "runtime/core/runtime.h"
#include "runtime/shim/real_functions.h"

namespace {

constexpr int kTimerSignal = 63;  // SIGRTMAX - 1, owned by the runtime
constexpr int kMaxThreadTimers = 256;

struct ThreadTimer {
  void (*function)(sigval);
  sigval value;
  pthread_attr_t attr;
  bool has_attr;
};

ThreadTimer g_timers[kMaxThreadTimers];
std::atomic<int> g_next_timer{0};
std::atomic<pid_t> g_server_tid{0};
pthread_once_t g_server_once = PTHREAD_ONCE_INIT;

struct Notification {
  void (*function)(sigval);
  sigval value;
};

void* run_notification(void* arg) {
  Notification n = *static_cast<Notification*>(arg);
  delete static_cast<Notification*>(arg);
  n.function(n.value);
  return nullptr;
}

void* serve_timers(void*) {
  sigset_t wait_for;
  sigemptyset(&wait_for);
  sigaddset(&wait_for, kTimerSignal);
  // The kernel timers signal this thread only (SIGEV_THREAD_ID); the
  // application's signals must go to its own threads, so block them all but
  // the suspend signal and glibc's internal ones.
  sigset_t all;
  sigfillset(&all);
  sigaddset(&all, kTimerSignal);
  sigdelset(&all, ckpt::kSuspendSignal);
  ckpt::real().pthread_sigmask(SIG_SETMASK, &all, nullptr);
  g_server_tid.store(static_cast<pid_t>(syscall(SYS_gettid)));
  g_server_tid.notify_all();
  for (;;) {
    siginfo_t info;
    // EINTR from a checkpoint's suspend signal: simply wait again.
    if (sigwaitinfo(&wait_for, &info) != kTimerSignal) continue;
    auto index = static_cast<int>(info.si_value.sival_int);
    if (index < 0 || index >= g_next_timer.load()) continue;
    ThreadTimer& t = g_timers[index];
    pthread_t thread;
    auto* n = new Notification{t.function, t.value};
    pthread_attr_t detached;
    pthread_attr_t* attr = t.has_attr ? &t.attr : &detached;
    if (!t.has_attr) pthread_attr_init(&detached);
    pthread_attr_setdetachstate(attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&thread, attr, run_notification, n) != 0) delete n;
    if (!t.has_attr) pthread_attr_destroy(&detached);
  }
  return nullptr;
}

void start_server() {
  ckpt::runtime().owned_signals.fetch_or(1ull << (kTimerSignal - 1));
  pthread_t thread;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_create(&thread, &attr, serve_timers, nullptr);
  pthread_attr_destroy(&attr);
  while (g_server_tid.load() == 0) g_server_tid.wait(0);
}

}  // namespace

CKPT_WRAPPER int timer_create(clockid_t clock, sigevent* sev, timer_t* id) {
  if (!sev || sev->sigev_notify != SIGEV_THREAD || !ckpt::runtime().ready)
    return ckpt::real().timer_create(clock, sev, id);
  int index = g_next_timer.fetch_add(1);
  if (index >= kMaxThreadTimers) {
    errno = EAGAIN;
    return -1;
  }
  pthread_once(&g_server_once, start_server);
  ThreadTimer& t = g_timers[index];
  t.function = sev->sigev_notify_function;
  t.value = sev->sigev_value;
  t.has_attr = sev->sigev_notify_attributes != nullptr;
  if (t.has_attr) t.attr = *sev->sigev_notify_attributes;
  sigevent kernel = {};
  kernel.sigev_notify = SIGEV_THREAD_ID;
  kernel.sigev_signo = kTimerSignal;
  kernel.sigev_value.sival_int = index;
  kernel._sigev_un._tid = g_server_tid.load();
  int kernel_id = -1;
  if (syscall(SYS_timer_create, clock, &kernel, &kernel_id) != 0) return -1;
  // glibc's other timer calls take a non-negative timer_t as the kernel id.
  *id = reinterpret_cast<timer_t>(static_cast<intptr_t>(kernel_id));
  return 0;
}
