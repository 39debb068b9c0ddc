// Rate-limited log of connections dropped before they authenticated (see
// bad_peer_log.h).
#include "bad_peer_log.h"

#include "log.h"

namespace ckpt {

void BadPeerLog::note(const std::string& address, const std::string& reason,
                      Clock::time_point now) {
  on_tick(now);
  if (!window_start_) window_start_ = now;
  if (named_ < kLinesPerWindow) {
    named_++;
    log_line("dropped a connection from %s before it authenticated: %s", address.c_str(),
             reason.c_str());
    return;
  }
  unnamed_[reason]++;
  unnamed_total_++;
}

void BadPeerLog::on_tick(Clock::time_point now) {
  if (window_start_ && now - *window_start_ >= kWindow) flush();
}

std::optional<BadPeerLog::Clock::time_point> BadPeerLog::deadline() const {
  if (!window_start_ || unnamed_total_ == 0) return std::nullopt;
  return *window_start_ + kWindow;
}

void BadPeerLog::flush() {
  if (unnamed_total_ > 0) {
    std::string by_reason;
    for (const auto& [reason, count] : unnamed_)
      by_reason += (by_reason.empty() ? "" : "; ") + std::to_string(count) + " " + reason;
    log_line(
        "dropped %zu more connections before they authenticated, not logged one by one "
        "(at most %zu lines per %lld s): %s",
        unnamed_total_, kLinesPerWindow, static_cast<long long>(kWindow.count()),
        by_reason.c_str());
  }
  window_start_.reset();
  named_ = 0;
  unnamed_.clear();
  unnamed_total_ = 0;
}

}  // namespace ckpt
