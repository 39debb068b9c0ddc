// Command handling: the requests of ckpt_command (checkpoint, checkpoint
// then kill, status, kill, quit, interval) and of ckpt_restart (rendezvous),
// and their replies. Checkpoints go through the CheckpointQueue, kills
// through the KillTracker, rendezvous requests wait in the Rendezvous.
#pragma once

#include <cstdint>
#include <string>

#include "checkpoint_queue.h"
#include "common/frame.h"
#include "generation_store.h"
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
};

class CommandHandler {
 public:
  explicit CommandHandler(CommandContext ctx) : ctx_(ctx) {}

  // A frame from an authenticated command peer. False: not a command
  // (protocol violation; close the connection).
  bool on_command(Peer& peer, const Frame& frame, Clock::time_point now);

  // A command connection closed: forget its pending rendezvous.
  void on_disconnect(PeerId command) { rendezvous_.drop_waiter(command); }

  // A quit was answered: the coordinator should exit.
  bool quit_requested() const { return quit_; }
  // Text (or JSON) for CmdStatus.
  std::string status_text(bool json);

 private:
  void checkpoint(PeerId command, bool then_kill, Clock::time_point now);
  void kill(PeerId command, bool quit, Clock::time_point now);
  void rendezvous(PeerId command, const proto::CmdRendezvous& request);
  void reply(PeerId command, bool ok, const std::string& text);

  CommandContext ctx_;
  Rendezvous rendezvous_;
  bool quit_ = false;
};

}  // namespace ckpt
