// PendingLimit: the bounds on connections that have not authenticated yet
// (anyone who can reach the port can open one). At most `max` are held;
// each must send its Hello, at most kMaxHello bytes, within kDeadline. When
// one more would pass the bound, the oldest pending connection is dropped if
// it has waited kEvictAge already (a real process answers the Challenge in
// milliseconds), else the coordinator stops accepting for kPause and lets
// the kernel's backlog hold the newcomers.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "peer_table.h"

namespace ckpt {

class PendingLimit {
 public:
  static constexpr uint32_t kMaxHello = 16 * 1024;
  static constexpr std::chrono::seconds kDeadline{10};
  static constexpr std::chrono::seconds kEvictAge{1};
  static constexpr std::chrono::milliseconds kPause{100};

  explicit PendingLimit(size_t max) : max_(max) {}
  size_t max() const { return max_; }

  // Whether one more connection may be accepted at `now`. kEvict: once
  // *victim (the oldest pending peer) is dropped.
  enum class Room { kYes, kEvict, kFull };
  Room make_room(PeerTable& peers, Clock::time_point now, Peer** victim) const;
  // Pending peers (a rejected one too, until its Reject is out) count
  // against the bound.
  static bool pending(const Peer& peer);

 private:
  size_t max_;
};

}  // namespace ckpt
