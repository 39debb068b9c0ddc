// Coordinator: the event loop. One thread, epoll over the listening socket
// and every peer; authenticates peers (Challenge/Hello), routes process
// frames to the checkpoint machine (Suspended, Snapshotted, Written,
// Execing), the preemption handler (Preempt) and the list of outside
// processes (Outside), command frames to the command handler, bounds and
// logs the connections that never authenticate (pending_limit.h,
// bad_peer_log.h), wakes for
// timeouts and periodic checkpoints, keeps the job's roster file
// (job_roster.h), and decides when to exit.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "bad_peer_log.h"
#include "checkpoint_machine.h"
#include "checkpoint_queue.h"
#include "command_handler.h"
#include "common/job_secret.h"
#include "common/scoped_fd.h"
#include "generation_store.h"
#include "job_metadata.h"
#include "job_roster.h"
#include "kill_tracker.h"
#include "outside_processes.h"
#include "peer_table.h"
#include "pending_limit.h"
#include "periodic_checkpoints.h"
#include "preemption.h"

namespace ckpt {

struct CoordinatorConfig {
  uint16_t port = 0;  // the bound port, for status
  Secret secret;
  bool exit_on_last = false;
  std::chrono::seconds phase_timeout{600};
  uint32_t interval_s = 0;  // periodic checkpoints; 0 = off
  PreemptionConfig preemption;
  JobMetadata job;
  size_t max_pending = 1024;  // connections held before they authenticate
};

class Coordinator {
 public:
  Coordinator(ScopedFd listener, GenerationStore& store, const CoordinatorConfig& config)
      : listener_(std::move(listener)),
        store_(store),
        config_(config),
        pending_(config.max_pending),
        machine_(peers_, store_, config.phase_timeout, config.job),
        queue_(machine_),
        killer_(peers_),
        periodic_(peers_, queue_),
        preemption_(queue_, killer_, config.preemption),
        outside_(local_host_name()),
        roster_(store.dir(), local_host_name()),
        commands_(CommandContext{peers_, machine_, queue_, killer_, periodic_, preemption_, store_,
                                 outside_, config.port, roster_}) {
    machine_.set_gate([this] { return roster_.missing_text(Clock::now()); });
  }

  // Serves until a quit command, or (with exit_on_last) until the last
  // process has gone. Returns the exit status.
  int run();

 private:
  void accept_all();
  bool make_room(Clock::time_point now);
  void pause_accepting(Clock::time_point now);
  void resume_accepting(Clock::time_point now);
  void drop_late_handshakes(Clock::time_point now);
  void report_bad_peer(Peer& peer, const std::string& reason);
  void on_peer_event(Peer& peer, uint32_t events);
  void handle_frame(Peer& peer, const Frame& frame);
  void authenticate(Peer& peer, const Frame& frame);
  void on_process_frame(Peer& peer, const Frame& frame);
  bool dispatch_process_frame(Peer& peer, const Frame& frame);
  void on_checkpoint_request(const Peer& peer);
  void reject(Peer& peer, const std::string& reason);
  void disconnect(Peer& peer, const char* why);
  void settle(Clock::time_point now);
  void note_generation(const ProcessRecord& process);
  bool flush_all();
  int wait_timeout_ms(Clock::time_point now);
  bool should_exit();

  ScopedFd listener_;
  ScopedFd epoll_;
  GenerationStore& store_;
  CoordinatorConfig config_;
  PendingLimit pending_;
  BadPeerLog bad_peers_;
  std::optional<Clock::time_point> accept_paused_until_;  // listener out of epoll until then
  bool accept_failing_ = false;                           // accept() failed (out of fds): logged
  PeerTable peers_;
  CheckpointMachine machine_;
  CheckpointQueue queue_;
  KillTracker killer_;
  PeriodicCheckpoints periodic_;
  Preemption preemption_;
  OutsideProcesses outside_;
  JobRoster roster_;
  CommandHandler commands_;
  bool had_process_ = false;
  std::optional<Clock::time_point> empty_since_;  // no process left since then
  static constexpr std::chrono::milliseconds kExitGrace{1500};
};

}  // namespace ckpt
