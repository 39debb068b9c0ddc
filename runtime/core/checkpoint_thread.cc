// The checkpoint thread (see checkpoint_thread.h).
#include "checkpoint_thread.h"

#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

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
#include "log.h"
#include "net_addresses.h"
#include "preempt.h"
#include "runtime_events.h"
#include "scheduler_env.h"
#include "thread_pointer.h"
#include "thread_suspend.h"
#include "time_state.h"
#include "write_mode.h"

namespace ckpt {
namespace {

std::atomic<int32_t> g_registered{0};  // 0 pending, 1 connected, 2 failed
ImageJob g_job;
PathString g_dir;  // where this checkpoint's image goes
bool g_suspended = false;
WriteModeChoice g_write_mode;  // chosen before each checkpoint (write_mode.h)

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

void name_control_thread() {
  sys::prctl(PR_SET_NAME, reinterpret_cast<long>(kControlThreadName), 0, 0, 0);
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
  rt.restart_count++;
  rt.preempt_signo.store(0);  // a preemption before the checkpoint is not this process's
  rt.checkpoint_active.store(0);
  rt.coord_fd = -1;  // that connection belonged to the old process
  rt.event_fd = -1;
  init_events(rt);
  rt.coord_addr.sin_port = htons(args->coord_port);
  inet_pton(AF_INET, args->coord_host, &rt.coord_addr.sin_addr);
  __builtin_memcpy(rt.secret, args->secret, sizeof(rt.secret));
  rt.file_rollback = !(args->restart_flags & kRestartNoRollback);
  keep_scheduler_env(*args);
  rt.pids.clear();
  for (uint32_t i = 0; i < args->n_pid_map && i < kMaxRestorePidMap; i++)
    rt.pids.add(args->pid_map_vpid[i], args->pid_map_real[i]);
  rt.pids.set_self(rt.vpid, rt.real_pid);
  rt.shmids.clear();
  for (uint32_t i = 0; i < args->n_shmid_map && i < kMaxRestoreShm; i++)
    rt.shmids.add(args->shmid_virtual[i], args->shmid_real[i]);
  rt.semids.clear();
  for (uint32_t i = 0; i < args->n_semid_map && i < kMaxRestoreShm; i++)
    rt.semids.add(args->semid_virtual[i], args->semid_real[i]);
  rt.msgids.clear();
  for (uint32_t i = 0; i < args->n_msgid_map && i < kMaxRestoreShm; i++)
    rt.msgids.add(args->msgid_virtual[i], args->msgid_real[i]);
  set_address_map(args->addresses);
  sys::munmap(reinterpret_cast<void*>(args->hole_start), args->hole_len);
  rt.restore_args = nullptr;
  forget_image_job(g_job);
  forget_forked_writer();
  forget_copy();

  MessageString err;
  if (!recreate_threads(rt, err)) fatal(__FILE__, __LINE__, err.view(), 0);
  if (!restore_time_state(rt, stopped_thread_count(), err)) log_line(LogLevel::kWarn, err.view());
  if (coordinator_connect(rt, err)) {
    name_control_thread();
  } else {
    MessageString msg;
    msg.append("restarted without a coordinator: ").append(err.view());
    log_line(LogLevel::kWarn, msg.view());
  }
  g_suspended = false;
  resume_all_threads(rt);
  refresh_scheduler_env();
  refresh_runtime_env(rt);
}

// Forks the image writer, copying the memory first when that mode was chosen.
uint64_t copy_budget() {
  const WriteModeInput& in = g_write_mode.input;
  return in.mem_available / 2 < in.copy_limit ? in.mem_available / 2 : in.copy_limit;
}

void fork_writer(Runtime& rt) {
  uint64_t copied = 0;
  if (g_write_mode.mode == WriteMode::kCopy) copy_before_fork(copy_budget(), &copied);
  start_forked_writer(rt, g_job);
  release_copy();  // the writer has its own reference to the copy
  MessageString msg;
  msg.append("image writer forked, ").append_int(copied >> 20).append(" MiB copied first");
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
// join this checkpoint.
void handle_suspend(Runtime& rt, ByteReader& in) {
  proto::Suspend msg;
  if (!msg.decode(in)) return;
  // Sample the application and prepare a copy while it still runs.
  g_write_mode = forked_writes_enabled() ? choose_write_mode_now() : WriteModeChoice{};
  if (g_write_mode.mode == WriteMode::kCopy) prepare_copy_buffer(copy_budget());
  g_job.generation = msg.generation;
  g_job.name_host = msg.name_host != 0;
  rt.checkpoint_active.store(1);  // from here, threads wait before entering a deferred section
  g_dir.clear();
  g_dir.append(msg.dir);
  MessageString err;
  g_suspended = wait_deferred_sections(rt, err) && suspend_all_threads(rt, err);
  if (g_suspended) settle_children(rt);
  reply_suspended(rt, proto::Msg::kSuspended, g_suspended, err.view());
}

// Phase 2: every process of the computation is stopped, so what processes
// share (pipes, files) holds still: capture it and take the snapshot.
void handle_snapshot(Runtime& rt) {
  MessageString err;
  bool ok = g_suspended;
  if (!ok) err.append("threads are not suspended");
  if (ok) {
    capture_time_state(rt);
    snapshot_children(rt);
    g_job.stopped_threads = stopped_thread_count();
    ok = prepare_image(rt, g_job, g_dir.view(), err);
  }
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
  uint8_t buf[1024];
  ByteWriter out(buf, sizeof(buf));
  proto::Written msg;
  msg.ok = ok;
  msg.error = err.view();
  msg.image = g_job.out.name.view();
  msg.bytes = g_job.out.bytes;
  msg.encode(out);
  coordinator_send(rt, proto::Msg::kWritten, out);
}

void handle_resume(Runtime& rt, ByteReader& in) {
  proto::Resume msg;
  if (msg.decode(in) && msg.committed) rt.committed_generation = msg.generation;
  // A checkpoint given up before its image was written.
  if (forked_writer_running())
    cancel_forked_writer(g_job);
  else if (g_job.fd >= 0)
    abandon_image(g_job);
  if (g_suspended) resume_all_threads(rt);
  g_suspended = false;
  end_checkpoint(rt);
}

// Waits until the coordinator speaks, handling runtime events meanwhile.
bool wait_for_coordinator(Runtime& rt) {
  for (;;) {
    pollfd fds[2] = {{rt.coord_fd, POLLIN, 0}, {rt.event_fd, POLLIN, 0}};
    long n = sys::call3(SYS_poll, reinterpret_cast<long>(fds), rt.event_fd >= 0 ? 2 : 1, -1);
    if (n < 0) continue;
    if (fds[1].revents & POLLIN) {
      uint32_t events = take_events(rt);
      if (events & kEventPreempt) send_preempt_request(rt);
    }
    if (fds[0].revents) return true;
  }
}

void serve(Runtime& rt) {
  for (;;) {
    proto::Msg type;
    ByteReader in(nullptr, 0);
    if (!wait_for_coordinator(rt) || !coordinator_recv(rt, type, in)) break;
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
  // The coordinator is gone: never leave the application stopped.
  if (g_suspended) resume_all_threads(rt);
  g_suspended = false;
  end_checkpoint(rt);
  coordinator_close(rt);
  log_line(LogLevel::kInfo, "lost the coordinator; running on without checkpoints");
}

void* checkpoint_thread_main(void* arg) {
  auto& rt = *static_cast<Runtime*>(arg);
  rt.ckpt_tid = static_cast<int32_t>(sys::gettid());
  rt.ckpt_fs_base = thread_pointer();
  MessageString err;
  bool ok = coordinator_connect(rt, err);
  if (ok) name_control_thread();
  if (!ok) {
    MessageString msg;
    msg.append("running without checkpoints: ").append(err.view());
    log_line(LogLevel::kWarn, msg.view());
  }
  g_registered.store(ok ? 1 : 2);
  futex_wake_all(g_registered);
  if (ok) serve(rt);
  return nullptr;
}

}  // namespace

void wait_checkpoint_idle(Runtime& rt, long timeout_ms) {
  for (long waited = 0; rt.checkpoint_active.load() && waited < timeout_ms; waited += 50)
    futex_wait(rt.checkpoint_active, 1, 50);
}

void start_checkpoint_thread(Runtime& rt) {
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
