// PeriodicCheckpoints: a checkpoint every `interval` seconds (--interval,
// CKPT_INTERVAL, ckpt_command --interval; 0 = off). The event loop wakes at
// deadline(); a period that comes due while another checkpoint runs or waits
// is skipped (that checkpoint serves it), so periodic checkpoints never pile up.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "checkpoint_queue.h"
#include "peer_table.h"

namespace ckpt {

class PeriodicCheckpoints {
 public:
  PeriodicCheckpoints(PeerTable& peers, CheckpointQueue& queue) : peers_(peers), queue_(queue) {}

  // 0 turns them off; the first one comes `seconds` from now.
  void set_interval(uint32_t seconds, Clock::time_point now);
  uint32_t interval() const { return interval_; }
  // Starts a checkpoint when one is due (unless `paused`, e.g. during a
  // preemption); call after every loop turn.
  void on_tick(Clock::time_point now, bool paused);
  std::optional<Clock::time_point> deadline() const;

 private:
  PeerTable& peers_;
  CheckpointQueue& queue_;
  uint32_t interval_ = 0;
  Clock::time_point next_;
};

}  // namespace ckpt
