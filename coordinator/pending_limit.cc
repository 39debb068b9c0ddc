// Admission of connections that have not authenticated (see pending_limit.h).
#include "pending_limit.h"

namespace ckpt {

bool PendingLimit::pending(const Peer& peer) {
  return peer.kind == PeerKind::kUnauthenticated && !peer.dead;
}

PendingLimit::Room PendingLimit::make_room(PeerTable& peers, Clock::time_point now,
                                           Peer** victim) const {
  size_t count = 0;
  Peer* oldest = nullptr;
  peers.for_each([&](Peer& p) {
    if (!pending(p)) return;
    count++;
    if (!oldest || p.connected_at < oldest->connected_at) oldest = &p;
  });
  if (count < max_) return Room::kYes;
  if (oldest && now - oldest->connected_at >= kEvictAge) {
    *victim = oldest;
    return Room::kEvict;
  }
  return Room::kFull;
}

}  // namespace ckpt
