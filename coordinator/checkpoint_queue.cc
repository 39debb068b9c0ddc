// Queued checkpoint requests and their results (see checkpoint_queue.h).
#include "checkpoint_queue.h"

#include "log.h"

namespace ckpt {

void CheckpointQueue::request(Done done, Clock::time_point now, bool last) {
  if (machine_.active() || !queued_.empty()) {
    if (machine_.active()) log_line("checkpoint requested while one runs: it will follow");
    queued_.push_back(std::move(done));
    queued_last_ = queued_last_ || last;
    return;
  }
  running_.push_back(std::move(done));
  start(now, last);
}

void CheckpointQueue::start(Clock::time_point now, bool last) {
  if (auto failed = machine_.start(now, last)) {
    std::vector<Done> waiters = std::move(running_);
    running_.clear();
    deliver(std::move(waiters), *failed);
  }
}

// Callbacks may queue new requests: they run on moved-out lists.
void CheckpointQueue::deliver(std::vector<Done> waiters, const CheckpointResult& result) {
  for (auto& done : waiters) done(result);
}

void CheckpointQueue::on_tick(Clock::time_point now) {
  if (auto result = machine_.take_result()) {
    std::vector<Done> waiters = std::move(running_);
    running_.clear();
    deliver(std::move(waiters), *result);
  }
  if (!machine_.active() && !queued_.empty()) {
    running_ = std::move(queued_);
    queued_.clear();
    bool last = queued_last_;
    queued_last_ = false;
    start(now, last);
  }
}

}  // namespace ckpt
