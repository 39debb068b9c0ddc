// Command handling: the requests of ckpt_command (checkpoint, checkpoint
// then kill, status, kill, quit, interval), of ckpt_restart (rendezvous) and
// of both launchers (hold), and their replies. Checkpoints go through the CheckpointQueue, kills
// through the KillTracker, rendezvous requests wait in the Rendezvous.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "checkpoint_queue.h"
#include "common/frame.h"
#include "generation_store.h"
#include "job_roster.h"
#include "kill_tracker.h"
#include "outside_processes.h"
#include "peer_table.h"
#include "periodic_checkpoints.h"
#include "preemption.h"
#include "rendezvous.h"

namespace ckpt {

struct CommandContext {
  PeerTable& peers;
  CheckpointMachine& machine;
  CheckpointQueue& queue;
  KillTracker& killer;
  PeriodicCheckpoints& periodic;
  const Preemption& preemption;
  const GenerationStore& store;
  OutsideProcesses& outside;
  uint16_t port;
  JobRoster& roster;
};

class CommandHandler {
 public:
  explicit CommandHandler(CommandContext ctx) : ctx_(ctx) {
    ctx_.machine.set_progress([this](const proto::CmdProgress& p) { send_progress(p); });
  }

  // A frame from an authenticated command peer. False: not a command
  // (protocol violation; close the connection).
  bool on_command(Peer& peer, const Frame& frame, Clock::time_point now);

  // A command connection closed: forget its pending rendezvous.
  void on_disconnect(PeerId command) {
    rendezvous_.drop_waiter(command);
    drop_listener(command);
  }

  // A quit was answered: the coordinator should exit.
  bool quit_requested() const { return quit_; }
  // Until when a launcher asked the coordinator to stay (CmdHold), if it did.
  std::optional<Clock::time_point> hold_deadline() const { return hold_until_; }
  // A process registered: what the hold waited for has come.
  void release_hold() { hold_until_.reset(); }
  // Text (or JSON) for CmdStatus.
  std::string status_text(bool json);

 private:
  void checkpoint(PeerId command, bool then_kill, bool progress, Clock::time_point now);
  void send_progress(const proto::CmdProgress& progress);
  void drop_listener(PeerId command);
  void kill(PeerId command, bool quit, Clock::time_point now);
  void rendezvous(PeerId command, const proto::CmdRendezvous& request);
  void reply(PeerId command, bool ok, const std::string& text,
             const CheckpointResult* figures = nullptr);

  CommandContext ctx_;
  Rendezvous rendezvous_;
  std::vector<PeerId> progress_listeners_;  // commands that asked for CmdProgress
  bool quit_ = false;
  std::optional<Clock::time_point> hold_until_;
};

}  // namespace ckpt
