// Preemption: a process of the job got one of its CKPT_PREEMPT_SIGNALS (the
// scheduler's warning before preemption or the time limit) and sent Preempt.
//
//   first Preempt -> checkpoint the whole computation once (Preempt from
//   other processes, or more signals, while this runs are only logged)
//   -> committed: [requeue the job] -> Kill{kPreemptExitStatus = 143}
//   -> failed:    [requeue the job] -> Kill (SIGKILL)
//
// A failed preemption checkpoint still ends the computation: the scheduler
// is about to kill it anyway, the previous committed generation is intact
// (a failed checkpoint never touches it), and a requeued job continues from
// there. SIGKILL instead of 143 lets the batch script tell the two apart.
// Periodic checkpoints pause while a preemption is handled, and SIGTERM to
// the coordinator is held back until the processes are gone.
#pragma once

#include <string>
#include <vector>

#include "checkpoint_queue.h"
#include "kill_tracker.h"
#include "peer_table.h"

namespace ckpt {

struct PreemptionConfig {
  bool requeue = false;  // --requeue / CKPT_REQUEUE=1
  int requeue_timeout_s = 60;
};

class Preemption {
 public:
  Preemption(CheckpointQueue& queue, KillTracker& killer, PreemptionConfig config)
      : queue_(queue), killer_(killer), config_(config) {}

  void on_preempt(const Peer& from, uint32_t signo, Clock::time_point now);
  bool active() const { return active_; }

 private:
  void on_checkpoint_done(const CheckpointResult& result);
  void requeue();

  CheckpointQueue& queue_;
  KillTracker& killer_;
  PreemptionConfig config_;
  bool active_ = false;
};

}  // namespace ckpt
