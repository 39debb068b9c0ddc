// The checkpoint state machine: one coordinated checkpoint of every process
// registered when it starts.
//
//   idle --start--> suspending --all Suspended--> writing --all Written-->
//   commit (GenerationStore, with the job metadata in the MANIFEST) -->
//   Resume{committed=1} to all --> idle
//
// Any failure (a process answers ok=0, disconnects, or misses the phase
// timeout; an image is missing; the commit fails) sends Resume{committed=0}
// to the processes still connected, removes the generation dir, and leaves
// the previous committed generation untouched. Processes that connect during
// a checkpoint are not part of it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ckpt/protocol.h"
#include "generation_store.h"
#include "job_metadata.h"
#include "peer_table.h"

namespace ckpt {

struct CheckpointResult {
  bool ok = false;
  std::string text;  // one line, e.g. "checkpoint 3 committed: 2 images, ..."
};

class CheckpointMachine {
 public:
  CheckpointMachine(PeerTable& peers, GenerationStore& store, std::chrono::seconds phase_timeout,
                    JobMetadata job = {})
      : peers_(peers), store_(store), phase_timeout_(phase_timeout), job_(std::move(job)) {}

  bool active() const { return phase_ != Phase::kIdle; }
  // Starts a checkpoint. Fails at once (result returned) when there is no
  // process or the generation dir cannot be created; nullopt once started.
  std::optional<CheckpointResult> start(Clock::time_point now);

  void on_suspended(Peer& peer, const proto::Suspended& msg);
  void on_written(Peer& peer, const proto::Written& msg);
  void on_disconnect(Peer& peer);
  void on_tick(Clock::time_point now);
  std::optional<Clock::time_point> deadline() const;

  // The result of the checkpoint that just ended, once.
  std::optional<CheckpointResult> take_result();

 private:
  enum class Phase { kIdle, kSuspending, kWriting };
  struct Participant {
    PeerId id;
    ProcessRecord process;  // copied: the peer may be gone when we report
    bool replied = false;
    bool gone = false;
    std::string image;
  };

  Participant* find(PeerId id);
  Peer* live(const Participant& part);  // its peer, unless disconnected
  bool all_replied() const;
  void begin_write(Clock::time_point now);
  void commit();
  void fail(const Participant* culprit, const std::string& reason);
  void finish(bool ok, std::string text);
  std::string prefix() const { return "checkpoint " + std::to_string(gen_); }

  PeerTable& peers_;
  GenerationStore& store_;
  std::chrono::seconds phase_timeout_;
  JobMetadata job_;

  Phase phase_ = Phase::kIdle;
  uint64_t gen_ = 0;
  std::vector<Participant> parts_;
  Clock::time_point started_;
  Clock::time_point deadline_;
  std::optional<CheckpointResult> result_;
};

}  // namespace ckpt
