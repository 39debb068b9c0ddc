// KillTracker: ends the computation. Sends Kill{exit_status} to every
// process, then waits until each has disconnected (or a timeout passes) and
// reports "killed N processes" (or who is still there) to whoever asked:
// ckpt_command --kill/--quit, a checkpoint-then-kill, or a preemption.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "peer_table.h"

namespace ckpt {

class KillTracker {
 public:
  using Done = std::function<void(const std::string& text)>;

  explicit KillTracker(PeerTable& peers) : peers_(peers) {}

  // exit_status < 0: SIGKILL; otherwise the processes exit with it. `done`
  // gets one line once all are gone or after the timeout; it may run
  // before kill_all() returns (no process at all).
  void kill_all(int32_t exit_status, const char* why, Done done, Clock::time_point now);
  void on_disconnect(Peer& peer);
  void on_tick(Clock::time_point now);
  std::optional<Clock::time_point> deadline() const;

  static constexpr auto kTimeout = std::chrono::seconds(10);

 private:
  struct Request {
    Done done;
    size_t total;
    std::set<PeerId> waiting;  // processes still connected
    Clock::time_point deadline;
  };
  void finish(const Request& req, bool timed_out);

  PeerTable& peers_;
  std::vector<Request> requests_;
};

}  // namespace ckpt
