// CheckpointQueue: everyone who wants a checkpoint (ckpt_command, the
// periodic timer, a preemption) asks here and is told the result.
//
// A request that arrives while a checkpoint runs is not refused: it waits,
// and all waiting requests are served together by one new checkpoint
// started as soon as the running one ends, so each requester gets a
// checkpoint taken after its request.
#pragma once

#include <functional>
#include <vector>

#include "checkpoint_machine.h"

namespace ckpt {

class CheckpointQueue {
 public:
  using Done = std::function<void(const CheckpointResult&)>;

  explicit CheckpointQueue(CheckpointMachine& machine) : machine_(machine) {}

  // `done` is called exactly once, from request() itself if the checkpoint
  // cannot start, else from a later on_tick(). `last`: the requester kills
  // the computation once the checkpoint commits (CheckpointMachine::start);
  // a checkpoint serving several requests is the last if one of them says so.
  void request(Done done, Clock::time_point now, bool last = false);
  // Served by the running checkpoint (machine active): for a requester the
  // running checkpoint has not captured yet.
  void join_running(Done done) { running_.push_back(std::move(done)); }
  // A checkpoint runs or is waiting to start.
  bool busy() const { return machine_.active() || !queued_.empty(); }
  // After every loop turn: deliver the result of a finished checkpoint and
  // start the queued one.
  void on_tick(Clock::time_point now);

 private:
  void start(Clock::time_point now, bool last);
  static void deliver(std::vector<Done> waiters, const CheckpointResult& result);

  CheckpointMachine& machine_;
  std::vector<Done> running_;  // served by the running checkpoint
  std::vector<Done> queued_;   // served by the next one
  bool queued_last_ = false;   // one of them kills the computation after it
};

}  // namespace ckpt
