// The periodic checkpoint timer (see periodic_checkpoints.h).
#include "periodic_checkpoints.h"

#include "log.h"

namespace ckpt {

void PeriodicCheckpoints::set_interval(uint32_t seconds, Clock::time_point now) {
  interval_ = seconds;
  next_ = now + std::chrono::seconds(seconds);
  if (seconds == 0)
    log_line("periodic checkpoints off");
  else
    log_line("periodic checkpoints every %u s", seconds);
}

void PeriodicCheckpoints::on_tick(Clock::time_point now, bool paused) {
  if (interval_ == 0 || now < next_) return;
  next_ = now + std::chrono::seconds(interval_);
  if (paused || queue_.busy() || peers_.process_count() == 0) return;
  log_line("periodic checkpoint due");
  queue_.request(
      [](const CheckpointResult& result) {
        if (!result.ok) log_line("periodic checkpoint did not commit: %s", result.text.c_str());
      },
      now);
}

std::optional<Clock::time_point> PeriodicCheckpoints::deadline() const {
  if (interval_ == 0) return std::nullopt;
  return next_;
}

}  // namespace ckpt
