// Command handling: the requests of ckpt_command (checkpoint, status, kill,
// quit) and their replies.
//
// Checkpoint requests that arrive while a checkpoint runs are not refused:
// they wait, and all of them are served together by one new checkpoint
// started as soon as the running one ends (so each requester gets a
// checkpoint taken after its request).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "checkpoint_machine.h"
#include "frame.h"
#include "generation_store.h"
#include "peer_table.h"

namespace ckpt {

class CommandHandler {
 public:
  CommandHandler(PeerTable& peers, CheckpointMachine& machine, const GenerationStore& store,
                 uint16_t port)
      : peers_(peers), machine_(machine), store_(store), port_(port) {}

  // A frame from an authenticated command peer. False: not a command
  // (protocol violation; close the connection).
  bool on_command(Peer& peer, const Frame& frame, Clock::time_point now);
  void on_disconnect(Peer& peer);
  // After every loop turn: checkpoint results, queued checkpoints, kills.
  void on_tick(Clock::time_point now);
  std::optional<Clock::time_point> deadline() const;

  // A quit was answered: the coordinator should exit.
  bool quit_requested() const { return quit_; }
  // Text (or JSON) for CmdStatus.
  std::string status_text(bool json);

 private:
  struct KillRequest {
    PeerId command;
    bool quit;
    size_t total;
    std::set<PeerId> waiting;  // processes still connected
    Clock::time_point deadline;
  };

  void request_checkpoint(PeerId command, Clock::time_point now);
  void start_checkpoint(Clock::time_point now);
  void request_kill(PeerId command, bool quit, Clock::time_point now);
  void finish_kill(const KillRequest& req, bool timed_out);
  void reply(PeerId command, bool ok, const std::string& text);

  PeerTable& peers_;
  CheckpointMachine& machine_;
  const GenerationStore& store_;
  uint16_t port_;

  std::vector<PeerId> running_waiters_;  // served by the running checkpoint
  std::vector<PeerId> queued_waiters_;   // served by the next one
  std::vector<KillRequest> kills_;
  bool quit_ = false;
};

}  // namespace ckpt
