// Checkpoint-then-exit on a preemption signal (see preemption.h).
#include "preemption.h"

#include <signal.h>

#include <csignal>
#include <cstring>

#include "ckpt/protocol.h"
#include "log.h"
#include "requeue.h"

namespace ckpt {
namespace {

void block_sigterm(bool block) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, nullptr);
}

}  // namespace

void Preemption::on_preempt(const Peer& from, uint32_t signo, Clock::time_point now) {
  const char* name = signo > 0 && signo < 65 ? ::sigabbrev_np(static_cast<int>(signo)) : nullptr;
  std::string sig = name ? std::string("SIG") + name : "signal " + std::to_string(signo);
  if (active_) {
    log_line("preemption: %s from process %s: already being handled", sig.c_str(),
             from.process.label().c_str());
    return;
  }
  active_ = true;
  // The scheduler's SIGTERM may reach us too (same cgroup): it waits until
  // the job has ended (see on_checkpoint_done), then takes effect.
  block_sigterm(true);
  log_line("preemption: %s from process %s: checkpointing the computation, then ending it",
           sig.c_str(), from.process.label().c_str());
  queue_.request([this](const CheckpointResult& result) { on_checkpoint_done(result); }, now, true);
}

void Preemption::on_checkpoint_done(const CheckpointResult& result) {
  if (result.ok) {
    log_line("preemption: %s", result.text.c_str());
  } else {
    log_line(
        "preemption: %s; ending the computation anyway, the previous committed checkpoint "
        "stays",
        result.text.c_str());
  }
  if (config_.requeue) requeue();
  int32_t status = result.ok ? proto::kPreemptExitStatus : -1;
  killer_.kill_all(
      status, "preemption",
      [this](const std::string& text) {
        log_line("preemption: %s", text.c_str());
        block_sigterm(false);
        // That computation is over: one restarted under this coordinator
        // (within its --exit-on-last grace) may be preempted again.
        active_ = false;
      },
      Clock::now());
}

void Preemption::requeue() {
  std::string why;
  std::vector<std::string> argv = requeue_command_from_env(&why);
  if (argv.empty()) {
    log_line("preemption: cannot requeue: %s", why.c_str());
    return;
  }
  std::string line;
  for (const auto& a : argv) line += (line.empty() ? "" : " ") + a;
  log_line("preemption: requeueing the job: %s", line.c_str());
  std::string error = run_requeue(argv, config_.requeue_timeout_s);
  if (error.empty())
    log_line("preemption: job requeued");
  else
    log_line("preemption: requeue failed: %s", error.c_str());
}

}  // namespace ckpt
