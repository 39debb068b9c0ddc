// The on-demand checkpoint thread (see on_demand_server.h).
#include "on_demand_server.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/single_threaded.h>
#include <sys/syscall.h>

#include <atomic>

#include "checkpoint_thread.h"
#include "children.h"
#include "ckpt/sys.h"
#include "coordinator_client.h"
#include "fork_fence.h"
#include "log.h"
#include "proc_files.h"
#include "raw_thread.h"
#include "runtime/shim/real_functions.h"
#include "thread_local_state.h"
#include "thread_pointer.h"
#include "thread_suspend.h"

namespace ckpt {
namespace {

constexpr size_t kStackSize = 8ul << 20;  // a pthread's default: the checkpoint code's frames
int g_wanted = -1;
bool g_armed = false;  // start_on_demand succeeded in this process
std::atomic<int32_t> g_serving{0};
RawThread g_server;
uint64_t g_tls = 0;  // the server's thread pointer (glibc's TCB, static TLS below it)
// glibc takes no lock in malloc and stdio while __libc_single_threaded is
// set; the server may call libc (and runs the application's checkpoint
// hooks), so the flag is cleared while it lives and set again when it ends if
// the application is still single-threaded.
bool g_was_single = false;

// A TLS block as glibc lays out a thread's, its TLS images copied in
// (_dl_allocate_tls), with the words of the TCB header that a new thread
// gets from pthread_create: itself, and the stack and pointer guards.
bool make_tls() {
  using Allocate = void* (*)(void*);
  auto allocate =
      reinterpret_cast<Allocate>(dlvsym(RTLD_DEFAULT, "_dl_allocate_tls", "GLIBC_PRIVATE"));
  if (!allocate) return false;
  void* tcb = allocate(nullptr);
  if (!tcb) return false;
  auto* mine = reinterpret_cast<const uint64_t*>(thread_pointer());
  auto* words = static_cast<uint64_t*>(tcb);
  words[0] = reinterpret_cast<uint64_t>(tcb);  // tcbhead_t::tcb
  words[2] = reinterpret_cast<uint64_t>(tcb);  // tcbhead_t::self
  words[5] = mine[5];                          // stack_guard
  words[6] = mine[6];                          // pointer_guard
  g_tls = reinterpret_cast<uint64_t>(tcb);
  return true;
}

// O_ASYNC on the coordinator socket: its data raises kServeSignal in this
// process (on == false while the server reads it).
void set_async(int fd, bool on) {
  if (fd < 0) return;
  long flags = sys::fcntl(fd, F_GETFL);
  if (flags < 0) return;
  sys::fcntl(fd, F_SETFL, on ? (flags | O_ASYNC) : (flags & ~static_cast<long>(O_ASYNC)));
}

bool arm_socket(Runtime& rt) {
  struct f_owner_ex owner = {F_OWNER_PID, static_cast<pid_t>(sys::getpid())};
  if (sys::fcntl(rt.coord_fd, F_SETOWN_EX, reinterpret_cast<long>(&owner)) < 0) return false;
  if (sys::fcntl(rt.coord_fd, F_SETSIG, kServeSignal) < 0) return false;
  set_async(rt.coord_fd, true);
  return true;
}

bool work_waiting(const Runtime& rt) {
  pollfd fds[2] = {{rt.coord_fd, POLLIN, 0}, {rt.event_fd, POLLIN, 0}};
  return sys::call3(SYS_poll, reinterpret_cast<long>(fds), 2, 0) > 0;
}

// Only the server and one application thread in the process.
bool two_threads_left() {
  ForkFence fence;  // the directory fd is the runtime's
  int n = 0;
  for_each_numbered_entry("/proc/self/task", [&](long, int) { n++; });
  return n == 2;
}

// Where the flag lives: our reference resolves to the program's copy when
// the program refers to it itself (a copy relocation: C++ programs do, in
// libstdc++'s inline atomics), while glibc's malloc reads its own; glibc's
// pthread_create writes both, and so do we.
char* g_single_flags[2];
int g_n_single_flags = 0;

void find_single_thread_flags() {
  if (g_n_single_flags) return;
  g_single_flags[g_n_single_flags++] = &__libc_single_threaded;
  void* libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
  if (!libc) return;
  auto* own = static_cast<char*>(dlsym(libc, "__libc_single_threaded"));
  if (own && own != g_single_flags[0]) g_single_flags[g_n_single_flags++] = own;
  dlclose(libc);
}

void set_single_thread_flags(char value) {
  for (int i = 0; i < g_n_single_flags; i++)
    __atomic_store_n(g_single_flags[i], value, __ATOMIC_RELAXED);
}

void leave_multi_thread_mode() {
  if (!__libc_single_threaded) return;
  g_was_single = true;
  set_single_thread_flags(0);
}

void back_to_single_thread_mode() {
  if (g_was_single && two_threads_left()) set_single_thread_flags(1);
  g_was_single = false;
}

void server_main(void*) {
  Runtime& rt = runtime();
  auto tid = static_cast<int32_t>(sys::gettid());
  if (rt.tid_offset >= 0) *reinterpret_cast<int32_t*>(g_tls + rt.tid_offset) = tid;
  add_runtime_tid(tid);  // here, not by the spawner: it may run after this thread ended
  sys::prctl(PR_SET_NAME, reinterpret_cast<long>(kControlThreadName), 0, 0, 0);
  rt.ckpt_tid = tid;
  rt.ckpt_fs_base = g_tls;
  for (;;) {
    set_async(rt.coord_fd, false);  // no signal per message while this thread reads them
    serve_until_idle(rt);           // returns only in this process, with a connection
    set_async(rt.coord_fd, true);
    back_to_single_thread_mode();
    g_serving.store(0);
    // What came between the last poll and the store raised no server: take it.
    if (!work_waiting(rt) || g_serving.exchange(1) != 0) break;
    leave_multi_thread_mode();
  }
  // No checkpoint can start before the next server runs, and it waits for
  // this thread's end: nothing suspends threads meanwhile. A tid the kernel
  // gives an application thread later must not be taken for the runtime's.
  rt.ckpt_tid = 0;
  remove_runtime_tid(tid);
}

void block_all(uint64_t* old) {
  uint64_t all = ~0ull;
  sys::call4(sys::kRtSigprocmask, SIG_SETMASK, reinterpret_cast<long>(&all),
             reinterpret_cast<long>(old), 8);
}

void spawn_server() {
  // The previous server may still be between its last store and its exit.
  for (int32_t t; (t = g_server.tid.load()) != 0;)
    sys::futex(&g_server.tid, FUTEX_WAIT, t, nullptr);
  g_server.id = 0;
  uint64_t old;
  block_all(&old);  // the server takes no signal of the application's
  leave_multi_thread_mode();
  bool ok = raw_thread_start_with_tls(g_server, server_main, nullptr, g_tls);
  sys::call4(sys::kRtSigprocmask, SIG_SETMASK, reinterpret_cast<long>(&old), 0, 8);
  if (!ok) {
    if (g_was_single) set_single_thread_flags(1);
    g_was_single = false;
    g_serving.store(0);
    log_line(LogLevel::kWarn, "cannot start the on-demand checkpoint thread");
  }
}

void on_serve_signal(int, siginfo_t*, void*) {
  t_state.ckpt_interrupts++;  // a blocking wrapper retries what this interrupted
  wake_on_demand_server();
}

// The handler doubles as the mark of a registered process (children.h):
// installed once registered, ignored while fork() copies the process (a
// child is not registered before its own on_fork_child), reset by exec.
bool set_handler(bool catching) {
  struct sigaction sa = {};
  if (catching) {
    sa.sa_sigaction = on_serve_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
  } else {
    sa.sa_handler = SIG_IGN;
  }
  sigfillset(&sa.sa_mask);
  return real().sigaction(kServeSignal, &sa, nullptr) == 0;
}

bool own_signal(Runtime& rt) {
  if (!set_handler(false)) return false;
  rt.owned_signals.fetch_or(1ull << (kServeSignal - 1));
  uint64_t set = 1ull << (kServeSignal - 1);
  sys::call4(sys::kRtSigprocmask, SIG_UNBLOCK, reinterpret_cast<long>(&set), 0, 8);
  return true;
}

void before_fork() {
  if (g_armed) set_handler(false);
}

void after_fork_in_parent() {
  if (!g_armed) return;
  set_handler(true);
  if (work_waiting(runtime())) wake_on_demand_server();  // a signal lost meanwhile
}

}  // namespace

bool on_demand_wanted() {
  if (g_wanted < 0) {
    // The default; CKPT_ON_DEMAND=0 keeps a checkpoint thread all the time.
    const char* v = getenv("CKPT_ON_DEMAND");
    g_wanted = !(v && *v == '0');
  }
  return g_wanted == 1;
}

bool start_on_demand(Runtime& rt) {
  g_serving.store(0);  // a forked child: its parent's server is not here
  g_server.tid.store(0);
  g_server.id = 0;
  g_armed = false;
  g_was_single = false;
  if (!g_tls && !make_tls()) return false;
  find_single_thread_flags();
  if (!g_server.stack) {
    long p = sys::mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
    if (p < 0) return false;
    g_server.stack = reinterpret_cast<void*>(p);
    g_server.stack_size = kStackSize;
  }
  if (!own_signal(rt)) return false;
  MessageString err;
  if (!coordinator_connect(rt, err)) return false;
  if (!set_handler(true) || !arm_socket(rt)) {
    set_handler(false);
    coordinator_close(rt);
    return false;
  }
  static bool fork_handlers = false;  // kept by a forked child, and after a restart
  if (!fork_handlers) pthread_atfork(before_fork, after_fork_in_parent, nullptr);
  fork_handlers = true;
  g_armed = true;
  if (work_waiting(rt)) wake_on_demand_server();
  return true;
}

void on_demand_after_restart() {
  if (g_server.id) remove_runtime_tid(g_server.id);  // the thread of the process before
  g_server.id = 0;
  g_server.tid.store(0);
  g_serving.store(1);  // the restored checkpoint thread serves from now on
  g_armed = false;     // and its new socket raises no signal
}

void wake_on_demand_server() {
  if (!g_armed || g_serving.exchange(1) != 0) return;
  spawn_server();
}

}  // namespace ckpt
