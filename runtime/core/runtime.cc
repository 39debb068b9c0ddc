// libckpt.so's entry: the constructor that puts a process under checkpoint
// control, and the one Runtime instance.
#include "runtime.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "app_critical.h"
#include "app_requests.h"
#include "checkpoint_deferral.h"
#include "checkpoint_thread.h"
#include "ckpt/protocol.h"
#include "ckpt/sys.h"
#include "common/hex.h"
#include "coordinator_client.h"
#include "exec_identity.h"
#include "fork_fence.h"
#include "forked_writer.h"
#include "incremental_image.h"
#include "lazy_fill.h"
#include "log.h"
#include "plugins/mpi/mpi_rank.h"
#include "preempt.h"
#include "process_capture.h"
#include "runtime/shim/real_functions.h"
#include "runtime_events.h"
#include "thread_local_state.h"
#include "thread_pointer.h"
#include "thread_suspend.h"

namespace ckpt {
namespace {

Runtime g_runtime;

// Offsets of glibc's struct pthread fields that a restart must refresh.
void probe_thread_layout(Runtime& rt) {
  uint64_t tp = thread_pointer();
  auto tid = static_cast<int32_t>(sys::gettid());
  for (int64_t off = 0x100; off < 0x1000; off += 4) {
    if (*reinterpret_cast<int32_t*>(tp + off) == tid) {
      rt.tid_offset = off;
      break;
    }
  }
  uint64_t head = 0, len = 0;
  if (sys::call3(SYS_get_robust_list, 0, reinterpret_cast<long>(&head),
                 reinterpret_cast<long>(&len)) == 0 &&
      head > tp && head < tp + 0x1000)
    rt.robust_offset = static_cast<int64_t>(head - tp);
}

// An exec keeps the signal mask and pending signals: the exec wrapper had
// the suspend signal blocked, and one may have come meanwhile. Drop it (the
// checkpoint that sent it waits for this new program instead) and unblock.
void accept_suspend_signal() {
  uint64_t set = 1ull << (kSuspendSignal - 1);
  timespec zero = {0, 0};
  while (sys::call4(SYS_rt_sigtimedwait, reinterpret_cast<long>(&set), 0,
                    reinterpret_cast<long>(&zero), 8) == kSuspendSignal) {
  }
  sys::call4(sys::kRtSigprocmask, SIG_UNBLOCK, reinterpret_cast<long>(&set), 0, 8);
}

bool parse_secret(const char* hex, uint8_t out[16]) {
  return hex && strlen(hex) == 32 && decode_hex(hex, out, 16);
}

bool resolve_coordinator(Runtime& rt) {
  const char* host = getenv("CKPT_COORD_HOST");
  const char* port = getenv("CKPT_COORD_PORT");
  if (!host || !*host) host = "localhost";
  long p = port && *port ? strtol(port, nullptr, 10) : proto::kDefaultPort;
  addrinfo hints = {};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host, nullptr, &hints, &res) != 0 || !res) return false;
  rt.coord_addr = *reinterpret_cast<sockaddr_in*>(res->ai_addr);
  rt.coord_addr.sin_port = htons(static_cast<uint16_t>(p));
  freeaddrinfo(res);
  return true;
}

void init_identity(Runtime& rt) {
  rt.real_pid = static_cast<int32_t>(sys::getpid());
  rt.real_ppid = static_cast<int32_t>(sys::getppid());
  rt.vpid = rt.real_pid;
  rt.vppid = rt.real_ppid;
  utsname u;
  if (uname(&u) == 0) strncpy(rt.host, u.nodename, sizeof(rt.host) - 1);
  ssize_t n = sys::readlink("/proc/self/exe", rt.exe, sizeof(rt.exe) - 1);
  if (n > 0) rt.exe[n] = 0;
  const char* base = strrchr(rt.exe, '/');
  base = base ? base + 1 : rt.exe;
  size_t i = 0;
  for (; base[i] && i < sizeof(rt.program) - 1; i++) {
    char c = base[i];
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-';
    rt.program[i] = plain ? c : '_';
  }
  rt.program[i] = 0;
  rt.rank = rank_from_environment([](const char* name) -> const char* { return getenv(name); });
  if (const char* v = getenv("CKPT_DEFER_TIMEOUT"); v && *v) {
    long seconds = strtol(v, nullptr, 10);
    if (seconds > 0) rt.defer_timeout_ms = seconds * 1000;
  }
}

// In the child of a fork(): a new process of the computation. It gets its
// own identity (its virtual pid is its pid; its parent's is the parent's
// virtual pid), drops the parent's connection, and registers with the
// coordinator through a checkpoint thread of its own.
void on_fork_child() {
  fork_fence_child();
  Runtime& rt = g_runtime;
  if (!rt.ready) return;
  // Our real pid is another process's virtual pid: the two could not be
  // told apart. Go at once; the fork wrapper sees the same clash and forks
  // again.
  if (fork_pid_clashes(rt, static_cast<int32_t>(sys::getpid()))) sys::exit_group(0);
  int32_t parent_vpid = rt.vpid;
  rt.pids.add(parent_vpid, rt.real_pid);  // the parent's pair, if it differs
  rt.real_pid = static_cast<int32_t>(sys::getpid());
  rt.real_ppid = static_cast<int32_t>(sys::getppid());
  rt.vpid = rt.real_pid;
  rt.vppid = parent_vpid;
  rt.pids.set_self(rt.vpid, rt.real_pid);
  rt.restart_count = 0;
  rt.checkpoint_active.store(0);                  // the parent's checkpoint, not ours
  rt.checkpoint_deferred.store(0);                // the forking thread's sections are the parent's
  if (rt.coord_fd >= 0) sys::close(rt.coord_fd);  // the parent's connection
  rt.coord_fd = -1;
  if (rt.event_fd >= 0) sys::close(rt.event_fd);
  rt.event_fd = -1;
  coordinator_forget_in_child();  // a parent's thread may have been sending at the fork
  forget_parent_suspend();        // or stopping its threads for a checkpoint
  for (auto& e : rt.tids) {
    e.vtid.store(0);
    e.tid_addr.store(0);
  }
  // fork(2) keeps the signal mask: the owned signals the application blocked
  // must still read back blocked in the child.
  uint64_t owned_blocked = t_state.owned_blocked;
  t_state = ThreadLocalState{};
  t_state.owned_blocked = owned_blocked;
  forget_app_requests();  // the parent's
  keep_critical_section_in_child(rt);
  forget_incremental_state();  // the parent's images and write tracking are not ours
  drop_parent_writer();        // forked during the parent's Write phase: its writer
  init_events(rt);
  start_checkpoint_thread(rt);
}

__attribute__((constructor)) void ckpt_runtime_init() {
  Runtime& rt = g_runtime;
  resolve_real_functions();
  init_identity(rt);
  set_log_host(rt.host);
  set_log_level_from_env(getenv("CKPT_LOG"), getenv("CKPT_VERBOSE"));
  adopt_exec_identity(rt);
  remember_preload();
  rt.have_secret = parse_secret(getenv("CKPT_SECRET"), rt.secret);
  if (!rt.have_secret || !resolve_coordinator(rt)) {
    log_line(LogLevel::kWarn,
             "CKPT_SECRET or the coordinator address is missing; "
             "running without checkpoints (start programs with ckpt_launch)");
    return;
  }
  if (const char* v = getenv("CKPT_FILE_ROLLBACK"); v && *v == '0') rt.file_rollback = false;
  probe_thread_layout(rt);
  remember_cmdline();
  install_suspend_handler();
  accept_suspend_signal();
  init_events(rt);
  if (const char* v = getenv("CKPT_PREEMPT_SIGNALS"); v && *v) install_preempt_signals(rt, v);
  rt.ready = true;
  pthread_atfork(fork_fence_prepare, fork_fence_parent, on_fork_child);
  // Registered last, so it runs first: after a lazy restart, glibc's fork()
  // (daemon() too) waits until every page is in (lazy_fill.h).
  pthread_atfork(lazy_fill_wait_before_fork, nullptr, nullptr);
  start_checkpoint_thread(rt);
}

// exit(): a process resumed while its image is still being written (forked
// writes) stays until the checkpoint is over, so that its image counts;
// then it tells the coordinator it exits on its own.
__attribute__((destructor)) void ckpt_runtime_fini() {
  if (g_runtime.ready) announce_exit(g_runtime);
}

}  // namespace

Runtime& runtime() { return g_runtime; }

}  // namespace ckpt

// The entry point of plugins outside libckpt.so (checkpoint_deferral.h).
extern "C" __attribute__((visibility("default"))) int ckpt_defer_checkpoints(int on) {
  ckpt::Runtime& rt = ckpt::runtime();
  if (!rt.ready) return -1;
  if (on)
    ckpt::enter_deferred_section(rt);
  else
    ckpt::leave_deferred_section(rt);
  return 0;
}
