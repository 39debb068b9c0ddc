// Ending the computation and waiting for it to go (see kill_tracker.h).
#include "kill_tracker.h"

#include "log.h"

namespace ckpt {

void KillTracker::kill_all(int32_t exit_status, const char* why, Done done, Clock::time_point now) {
  Request req{std::move(done), 0, {}, now + kTimeout};
  for (Peer* p : peers_.processes()) {
    p->conn.queue_message(proto::Msg::kKill, proto::Kill{exit_status});
    req.waiting.insert(p->id);
  }
  req.total = req.waiting.size();
  if (exit_status < 0)
    log_line("%s: sent Kill (SIGKILL) to %zu processes", why, req.total);
  else
    log_line("%s: sent Kill (exit status %d) to %zu processes", why, exit_status, req.total);
  if (req.waiting.empty()) return finish(req, false);
  requests_.push_back(std::move(req));
}

void KillTracker::finish(const Request& req, bool timed_out) {
  std::string text;
  if (!timed_out) {
    text = "killed " + std::to_string(req.total) + (req.total == 1 ? " process" : " processes");
  } else {
    text = "killed " + std::to_string(req.total - req.waiting.size()) + " of " +
           std::to_string(req.total) + " processes; still connected after " +
           std::to_string(kTimeout.count()) + " s:";
    for (PeerId id : req.waiting) {
      if (Peer* p = peers_.find(id)) text += " " + p->process.label();
    }
  }
  req.done(text);
}

void KillTracker::on_disconnect(Peer& peer) {
  for (auto& req : requests_) req.waiting.erase(peer.id);
}

void KillTracker::on_tick(Clock::time_point now) {
  std::vector<Request> done, still;
  for (auto& req : requests_) {
    bool over = req.waiting.empty() || now >= req.deadline;
    (over ? done : still).push_back(std::move(req));
  }
  requests_ = std::move(still);
  for (const auto& req : done) finish(req, !req.waiting.empty());
}

std::optional<Clock::time_point> KillTracker::deadline() const {
  std::optional<Clock::time_point> out;
  for (const auto& req : requests_)
    if (!out || req.deadline < *out) out = req.deadline;
  return out;
}

}  // namespace ckpt
