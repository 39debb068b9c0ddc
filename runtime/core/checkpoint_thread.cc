// The checkpoint thread (see checkpoint_thread.h).
#include "checkpoint_thread.h"

#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include "app_hooks.h"
#include "app_requests.h"
#include "checkpoint_deferral.h"
#include "children.h"
#include "ckpt/protocol.h"
#include "ckpt/sys.h"
#include "context_switch.h"
#include "coordinator_client.h"
#include "copy_first.h"
#include "exec_identity.h"
#include "forked_writer.h"
#include "futex.h"
#include "image_file.h"
#include "incremental_image.h"
#include "lazy_fill.h"
#include "log.h"
#include "on_demand_server.h"
#include "plugins/sockets/net_addresses.h"
#include "plugins/sockets/tcp_send_queues.h"
#include "plugins/timers/time_state.h"
#include "preempt.h"
#include "process_name.h"
#include "runtime_events.h"
#include "scheduler_env.h"
#include "thread_local_state.h"
#include "thread_pointer.h"
#include "thread_suspend.h"
#include "write_mode.h"

namespace ckpt {
namespace {

std::atomic<int32_t> g_registered{0};  // 0 pending, 1 connected, 2 failed
// Registering again after losing the coordinator: first pause, and the
// longest (the pause doubles after each failed attempt).
constexpr long kRetryFirstMs = 200;
constexpr long kRetryMaxMs = 3000;
ImageJob g_job;
PathString g_dir;  // where this checkpoint's image goes
bool g_suspended = false;
WriteModeChoice g_write_mode;  // chosen before each checkpoint (write_mode.h)
// The on-demand server (on_demand_server.h) returns once nothing is left to
// do; a restored process's checkpoint thread (the thread-group leader) and
// the pthread never do.
bool g_idle_returns = false;

void block_all_signals() {
  uint64_t all = ~0ull;
  sys::call4(sys::kRtSigprocmask, SIG_SETMASK, reinterpret_cast<long>(&all), 0, 8);
}

void reply_suspended(Runtime& rt, proto::Msg type, bool ok, std::string_view error) {
  uint8_t buf[1024];
  ByteWriter out(buf, sizeof(buf));
  proto::Suspended msg;
  msg.ok = ok;
  msg.error = error;
  msg.encode(out);
  coordinator_send(rt, type, out);
}

void end_checkpoint(Runtime& rt) {
  rt.checkpoint_active.store(0);
  futex_wake_all(rt.checkpoint_active);
}

// After a restart the checkpoint thread is the thread-group leader and keeps
// the program's name: a small thread carries kControlThreadName instead.
void name_control_thread() {
  if (sys::gettid() == sys::getpid())
    start_control_marker(runtime().restart_count);
  else
    sys::prctl(PR_SET_NAME, reinterpret_cast<long>(kControlThreadName), 0, 0, 0);
}

// Fills a runtime table from one of RestoreArgs's id maps.
template <typename Table, uint32_t N>
void load_ids(Table& table, const RestoreIdMap<N>& ids) {
  table.clear();
  for (uint32_t i = 0; i < ids.n && i < N; i++) table.add(ids.virt[i], ids.real[i]);
}

// After a restart the restorer lands here, on the checkpoint thread's stack
// and TLS, in a fresh process whose other threads do not exist yet.
void resume_after_restart() {
  Runtime& rt = runtime();
  block_all_signals();
  register_task_state(rt, rt.ckpt_fs_base);
  RestoreArgs* args = rt.restore_args;
  rt.real_pid = static_cast<int32_t>(sys::getpid());
  rt.real_ppid = static_cast<int32_t>(sys::getppid());
  utsname u;  // the host it runs on now (images and status name it)
  if (uname(&u) == 0) {
    __builtin_memset(rt.host, 0, sizeof(rt.host));
    __builtin_strncpy(rt.host, u.nodename, sizeof(rt.host) - 1);
  }
  rt.ckpt_tid = rt.real_pid;
  g_idle_returns = false;  // the leader serves for the rest of the process's life
  rt.restart_count++;
  rt.preempt_signo.store(0);  // a preemption before the checkpoint is not this process's
  rt.pending_events.fetch_and(~static_cast<uint32_t>(kEventPreempt));  // nor one during it
  rt.checkpoint_active.store(0);
  rt.coord_fd = -1;  // that connection belonged to the old process
  rt.event_fd = -1;
  init_events(rt);
  rt.coord_addr.sin_port = htons(args->coord_port);
  inet_pton(AF_INET, args->coord_host, &rt.coord_addr.sin_addr);
  __builtin_memcpy(rt.secret, args->secret, sizeof(rt.secret));
  rt.file_rollback = !(args->restart_flags & kRestartNoRollback);
  keep_scheduler_env(*args);
  load_ids(rt.pids, args->pids);
  rt.pids.set_self(rt.vpid, rt.real_pid);
  load_ids(rt.shmids, args->shmids);
  load_ids(rt.semids, args->semids);
  load_ids(rt.msgids, args->msgids);
  set_address_map(args->addresses);
  lazy_fill_adopt(args->n_lazy ? args->lazy_done_fd : -1, args->n_lazy ? args->lazy_uffd : -1);
  sys::munmap(reinterpret_cast<void*>(args->hole_start), args->hole_len);
  rt.restore_args = nullptr;
  // Every fd and mapping is back: the process holds its file locks again.
  MessageString lock_err;
  if (!retake_file_locks(g_job.fds.locks, g_job.fds.n_locks, lock_err))
    log_line(LogLevel::kWarn, lock_err.view());
  forget_image_job(g_job);
  forget_forked_writer();
  forget_copy();
  on_demand_after_restart();

  MessageString err;
  if (!recreate_threads(rt, err)) fatal(__FILE__, __LINE__, err.view(), 0);
  incremental_after_restart();
  if (!restore_time_state(rt, stopped_thread_count(), err)) log_line(LogLevel::kWarn, err.view());
  // The checkpoint thread is now the thread-group leader: it carries the
  // program's name (/proc/PID/comm, ps, pgrep), not the runtime's.
  take_process_name();
  // Without a coordinator now, the checkpoint thread keeps trying (serve()).
  if (coordinator_connect(rt, err)) name_control_thread();
  g_suspended = false;
  resume_all_threads(rt);
  refresh_scheduler_env();
  refresh_runtime_env(rt);
  // The application's restart hooks (its threads run meanwhile, so that a
  // hook never waits for a lock a stopped thread holds); then the callers of
  // ckpt_checkpoint() that waited return "restarted".
  run_restart_hooks();
  forget_app_requests();
}

// Forks the image writer, copying the memory first when that mode was chosen.
uint64_t copy_budget() {
  const WriteModeInput& in = g_write_mode.input;
  return in.mem_available / 2 < in.copy_limit ? in.mem_available / 2 : in.copy_limit;
}

// An incremental image whose writer would fork: its written pages are
// copied instead of sharing every page copy-on-write (copy_first.h).
bool wants_dirty_copy() {
  const WriteModeInput& in = g_write_mode.input;
  if (g_write_mode.mode != WriteMode::kFork || in.setting != WriteModeSetting::kAuto || in.last)
    return false;
  DirtyCopySetting s = dirty_copy_setting();
  return s == DirtyCopySetting::kAlways ||
         (s == DirtyCopySetting::kAuto && in.copy_bytes >= kMinCopyBytes);
}

void fork_writer(Runtime& rt) {
  uint64_t copied = 0, precopied = 0, t0 = monotonic_ns();
  bool dirty = false;
  if (g_write_mode.mode == WriteMode::kCopy)
    copy_before_fork(copy_budget(), &copied);
  else if (wants_dirty_copy() && incremental_planned())
    dirty = copy_dirty_before_fork(copy_budget(), g_job.generation, &copied, &precopied);
  uint64_t t1 = monotonic_ns();
  start_forked_writer(rt, g_job);
  release_copy();  // the writer has its own reference to the copy
  MessageString msg;
  msg.append("image writer forked, ").append_int(copied >> 20);
  msg.append(dirty ? " MiB of written pages copied first" : " MiB copied first");
  if (dirty) msg.append(" (").append_int(precopied >> 20).append(" MiB before the pause)");
  msg.append(" (copy ").append_int((t1 - t0) / 1000).append(" us, fork ");
  msg.append_int((monotonic_ns() - t1) / 1000).append(" us)");
  log_line(LogLevel::kInfo, msg.view());
}

// The instant the image shows: returns false when this call came back
// through a restart. With forked writes, the writer starts here.
__attribute__((noinline)) bool snapshot_or_restart(Runtime& rt) {
  if (ckpt_save_context(&rt.ckpt_ctx) != 0) {
    resume_after_restart();
    return false;
  }
  if (forked_writes_enabled() && g_job.fork_safe) fork_writer(rt);
  return true;
}

// Phase 1: once no thread is inside a deferred section (MPI_Init), stop
// every application thread; wait for children still starting so that they
// join this checkpoint. Then take the TCP send queues, before the barrier
// that precedes every receive queue's capture (tcp_send_queues.h).
void handle_suspend(Runtime& rt, ByteReader& in) {
  proto::Suspend msg;
  if (!msg.decode(in)) return;
  if (log_enabled(LogLevel::kDebug)) {
    MessageString line;
    line.append("suspending for checkpoint ").append_uint(msg.generation);
    log_line(LogLevel::kDebug, line.view());
  }
  // After a lazy restart, the memory must be complete before it is saved.
  lazy_fill_wait_before_checkpoint();
  // Sample the application and prepare a copy while it still runs.
  g_write_mode = forked_writes_enabled() ? choose_write_mode_now(msg.last != 0) : WriteModeChoice{};
  check_parent_image();  // reads the previous image while the application runs
  if (g_write_mode.mode == WriteMode::kCopy)
    prepare_copy_buffer(copy_budget());
  else if (wants_dirty_copy())
    prepare_dirty_copy(copy_budget());
  // The application's hooks, while its threads still run and may enter
  // critical sections (app_hooks.h).
  run_pre_checkpoint_hooks();
  g_job.generation = msg.generation;
  g_job.name_host = msg.name_host != 0;
  // Last before the threads stop: what is written after it is what the
  // pause copies.
  if (g_write_mode.mode != WriteMode::kCopy && wants_dirty_copy())
    precopy_dirty_pages(msg.generation);
  rt.checkpoint_active.store(1);  // from here, threads wait before entering a deferred section
  g_dir.clear();
  g_dir.append(msg.dir);
  MessageString err;
  g_suspended = wait_deferred_sections(rt, err) && suspend_all_threads(rt, err);
  if (g_suspended) settle_children(rt);
  int skip[2] = {rt.coord_fd, rt.event_fd};
  bool ok = g_suspended && take_tcp_send_queues(skip, 2, err);
  reply_suspended(rt, proto::Msg::kSuspended, ok, err.view());
}

// Phase 2: every process of the computation is stopped, so what processes
// share (pipes, files) holds still: capture it and take the snapshot.
void handle_snapshot(Runtime& rt) {
  MessageString err;
  bool ok = g_suspended;
  if (!ok) err.append("threads are not suspended");
  if (ok) ok = capture_time_state(rt, err);
  if (ok) {
    snapshot_children(rt);
    g_job.stopped_threads = stopped_thread_count();
    note_process_name(rt, g_job.stopped_threads);
    ok = prepare_image(rt, g_job, g_dir.view(), err);
    if (ok) plan_incremental(g_job.generation, g_job.path.view());
  }
  drop_tcp_send_queues();  // in the image now, or given up; not in the memory snapshot
  if (ok && !snapshot_or_restart(rt)) return;
  if (!ok && g_suspended) {
    resume_all_threads(rt);
    g_suspended = false;
  }
  reply_suspended(rt, proto::Msg::kSnapshotted, ok, err.view());
}

void handle_write(Runtime& rt) {
  MessageString err;
  bool ok;
  if (forked_writer_running()) {
    // Every process has its snapshot: the application runs on meanwhile.
    resume_all_threads(rt);
    g_suspended = false;
    ok = finish_forked_writer(g_job, err);
  } else {
    ok = g_suspended && write_image(rt, g_job, err);
    if (!g_suspended) err.append("threads are not suspended");
  }
  if (ok) note_image_written(g_job.generation, g_job.out.bytes, g_job.out.identity);
  uint8_t buf[1024];
  ByteWriter out(buf, sizeof(buf));
  proto::Written msg;
  msg.ok = ok;
  msg.error = err.view();
  msg.image = g_job.out.name.view();
  msg.bytes = g_job.out.bytes;
  msg.encode(out);
  coordinator_send(rt, proto::Msg::kWritten, out);
  if (log_enabled(LogLevel::kDebug)) {
    MessageString line;
    line.append(ok ? "wrote image " : "could not write image ").append(g_job.out.name.view());
    line.append(", ").append_uint(g_job.out.bytes).append(" bytes");
    log_line(LogLevel::kDebug, line.view());
  }
}

// A checkpoint given up (Resume{committed=0}, or its coordinator gone):
// drop the image in progress and let the application run.
void abandon_checkpoint(Runtime& rt) {
  reap_forked_writer();  // a writer that reported and was exiting
  if (forked_writer_running())
    cancel_forked_writer(g_job);
  else if (g_job.fd >= 0)
    abandon_image(g_job);
  drop_tcp_send_queues();
  if (g_suspended) resume_all_threads(rt);
  g_suspended = false;
  end_checkpoint(rt);
  run_resume_hooks();  // if this checkpoint ran the pre-checkpoint ones
}

void handle_resume(Runtime& rt, ByteReader& in) {
  proto::Resume msg;
  if (msg.decode(in) && msg.committed) {
    rt.committed_generation = msg.generation;
    note_generation_committed(msg.generation);
  }
  if (log_enabled(LogLevel::kDebug)) {
    MessageString line;
    line.append("resumed; checkpoint ").append_uint(msg.generation);
    line.append(msg.committed ? " committed" : " not committed");
    log_line(LogLevel::kDebug, line.view());
  }
  abandon_checkpoint(rt);  // after a commit: nothing left to drop
  // The application runs again: make the buffer the next checkpoint's copy
  // (or dirty copy) wants ready now rather than in that checkpoint.
  if (g_write_mode.prepare_after && msg.committed)
    prepare_copy_buffer(copy_budget());
  else if (wants_dirty_copy())
    prepare_dirty_copy(copy_budget());
}

enum class Wait { kMessage, kIdle, kGone };

// Waits until the coordinator speaks, handling runtime events meanwhile.
// kIdle (on-demand server only): nothing to read and no checkpoint running.
Wait wait_for_coordinator(Runtime& rt) {
  while (rt.coord_fd >= 0) {
    pollfd fds[3] = {
        {rt.coord_fd, POLLIN, 0}, {rt.event_fd, POLLIN, 0}, {lazy_fill_fd(), POLLIN, 0}};
    bool may_idle = g_idle_returns && rt.checkpoint_active.load() == 0;
    long n = sys::call3(SYS_poll, reinterpret_cast<long>(fds), 3, may_idle ? 0 : -1);
    if (n == 0 && may_idle) return Wait::kIdle;
    if (n <= 0) continue;
    if (fds[2].revents) lazy_fill_settle();  // a lazy restart's filler is done
    if (fds[1].revents & POLLIN) {
      uint32_t events = take_events(rt);
      if (events & kEventPreempt) send_preempt_request(rt);
      if (events & kEventCheckpointRequest) send_app_requests(rt);
    }
    if (fds[0].revents) return Wait::kMessage;
  }
  return Wait::kGone;
}

// Serves one coordinator connection until it is gone (false) or, for the
// on-demand server, until nothing is left to do (true). A restored process
// comes back in here (through handle_snapshot), connected or not.
bool serve_connection(Runtime& rt) {
  for (;;) {
    proto::Msg type;
    ByteReader in(nullptr, 0);
    Wait w = wait_for_coordinator(rt);
    if (w == Wait::kIdle) return true;
    if (w == Wait::kGone || !coordinator_recv(rt, type, in)) return false;
    switch (type) {
      case proto::Msg::kSuspend:
        handle_suspend(rt, in);
        break;
      case proto::Msg::kSnapshot:
        handle_snapshot(rt);
        break;
      case proto::Msg::kWrite:
        handle_write(rt);
        break;
      case proto::Msg::kResume:
        handle_resume(rt, in);
        break;
      case proto::Msg::kCheckpointDone: {
        proto::CmdReply msg;
        if (msg.decode(in)) answer_app_requests(rt, msg.ok != 0, msg.text);
        break;
      }
      case proto::Msg::kKill: {
        proto::Kill msg;
        if (msg.decode(in) && msg.exit_status >= 0) sys::exit_group(msg.exit_status);
        sys::kill(rt.real_pid, SIGKILL);
        break;
      }
      default:
        break;
    }
  }
}

// Sleeps `ms` while handling runtime events (a preemption signal has no
// coordinator to go to: it is logged).
void pause_handling_events(Runtime& rt, long ms) {
  pollfd fds[2] = {{rt.event_fd, POLLIN, 0}, {lazy_fill_fd(), POLLIN, 0}};
  if (sys::call3(SYS_poll, reinterpret_cast<long>(fds), 2, ms) <= 0) return;
  if (fds[1].revents) lazy_fill_settle();  // a lazy restart's filler is done
  uint32_t events = fds[0].revents ? take_events(rt) : 0;
  if (events & kEventPreempt)
    log_line(LogLevel::kWarn, "preemption signal while no coordinator answers: not checkpointed");
  if (events & kEventCheckpointRequest) fail_app_requests("no coordinator answers");
}

// Connects again to the coordinator's address, with backoff, until one of
// this job answers (the next coordinator started there: see
// docs/usage.md). Malloc-free: it runs in a restored process too.
void reconnect(Runtime& rt) {
  long delay_ms = kRetryFirstMs;
  bool said = false;
  for (;;) {
    MessageString err;
    if (coordinator_connect(rt, err, true)) break;
    if (!said) {
      MessageString msg;
      msg.append("no coordinator (")
          .append(err.view())
          .append("); running on without checkpoints and registering again once one answers");
      log_line(LogLevel::kWarn, msg.view());
      said = true;
    }
    // A little spread per process, so that the ranks of a big job do not
    // all knock at once.
    pause_handling_events(rt, delay_ms + rt.real_pid % 97);
    delay_ms = delay_ms * 2 > kRetryMaxMs ? kRetryMaxMs : delay_ms * 2;
  }
  name_control_thread();
  if (said) log_line(LogLevel::kWarn, "registered again with a coordinator");
}

// The coordinator went (or never answered): never leave the application
// stopped, and register again with the next one.
void after_connection_lost(Runtime& rt) {
  bool had_connection = rt.coord_fd >= 0;
  abandon_checkpoint(rt);
  fail_app_requests("lost the coordinator");
  coordinator_close(rt);
  if (had_connection) log_line(LogLevel::kInfo, "lost the coordinator; running on");
  reconnect(rt);
}

// The checkpoint thread's life: serve the coordinator, and the next one.
void serve(Runtime& rt) {
  for (;;) {
    serve_connection(rt);
    after_connection_lost(rt);
  }
}

void* checkpoint_thread_main(void* arg) {
  auto& rt = *static_cast<Runtime*>(arg);
  rt.ckpt_tid = static_cast<int32_t>(sys::gettid());
  rt.ckpt_fs_base = thread_pointer();
  MessageString err;
  bool ok = coordinator_connect(rt, err);
  if (ok) name_control_thread();
  g_registered.store(ok ? 1 : 2);
  futex_wake_all(g_registered);
  serve(rt);  // without a connection: keeps trying to register
  return nullptr;
}

}  // namespace

void announce_exit(Runtime& rt) {
  wait_checkpoint_idle(rt, 60000);
  ByteWriter empty(nullptr, 0);
  coordinator_send(rt, proto::Msg::kExiting, empty);
  // A checkpoint that began meanwhile may have stopped this thread and
  // resumed it early (forked writes) before this process reported its
  // image: stay until it is over. Then leave with the suspend signal
  // blocked, so that no checkpoint stops this thread on its way out (one
  // that starts now sees a process that said it exits).
  for (int round = 0; round < 100; round++) {
    wait_checkpoint_idle(rt, 60000);
    uint64_t old_mask = block_suspend_signal();
    if (!rt.checkpoint_active.load()) return;
    restore_signal_mask(old_mask);
  }
}

void wait_checkpoint_idle(Runtime& rt, long timeout_ms) {
  for (long waited = 0; rt.checkpoint_active.load() && waited < timeout_ms; waited += 50)
    futex_wait(rt.checkpoint_active, 1, 50);
}

void serve_until_idle(Runtime& rt) {
  g_idle_returns = true;
  if (serve_connection(rt)) return;
  g_idle_returns = false;  // no coordinator: this thread stays and registers again
  after_connection_lost(rt);
  serve(rt);
}

void start_checkpoint_thread(Runtime& rt) {
  g_idle_returns = false;
  if (on_demand_wanted() && start_on_demand(rt)) return;
  g_registered.store(0);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int r = pthread_create(&rt.ckpt_thread, nullptr, checkpoint_thread_main, &rt);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (r != 0) {
    log_line(LogLevel::kWarn, "cannot start the checkpoint thread; running without checkpoints");
    return;
  }
  pthread_detach(rt.ckpt_thread);
  while (g_registered.load() == 0) futex_wait(g_registered, 0, 100);
}

}  // namespace ckpt
