// BadPeerLog: one log line for each connection dropped before it
// authenticated (garbage, an oversized or half frame, a wrong secret, no
// Hello in time, evicted), naming its address and why, but at most
// kLinesPerWindow such lines per window: past that, the peers are counted by
// reason and one summary line per window says how many were not named. Every
// bad peer is thus accounted for exactly once, and a flood of them cannot
// fill the disk with the coordinator's log.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>

namespace ckpt {

class BadPeerLog {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kLinesPerWindow = 10;
  static constexpr std::chrono::seconds kWindow{10};

  // A peer dropped at `now`: logged, or counted for the summary.
  void note(const std::string& address, const std::string& reason, Clock::time_point now);
  // Ends the window once it is over: logs the summary of the unnamed peers.
  void on_tick(Clock::time_point now);
  // When on_tick has a summary to log, if ever.
  std::optional<Clock::time_point> deadline() const;
  // Logs what is counted at once (the coordinator is exiting).
  void flush();

 private:
  std::optional<Clock::time_point> window_start_;
  size_t named_ = 0;                       // lines logged in this window
  std::map<std::string, size_t> unnamed_;  // by reason, this window
  size_t unnamed_total_ = 0;
};

}  // namespace ckpt
