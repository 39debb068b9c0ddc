// The job's processes beyond the connected ones (see job_roster.h).
#include "job_roster.h"

#include <algorithm>

#include "log.h"

namespace ckpt {

void JobRoster::load(Clock::time_point now) {
  for (RosterEntry& e : read_roster(dir_)) {
    if (liveness(e, local_host_) == Liveness::kGone) continue;
    log_line("expecting process %s back: registered with the previous coordinator",
             e.label().c_str());
    // Loaded processes count as missing at once, not after kSettle.
    expected_.push_back(Expected{std::move(e), now - kSettle, true});
  }
  dirty_ = true;
}

RosterEntry JobRoster::entry_of(const Peer& peer) const {
  const ProcessRecord& r = peer.process;
  return RosterEntry{r.host, r.real_pid, r.vpid, r.start_time, r.program};
}

void JobRoster::on_registered(Peer& peer) {
  if (peer.process.host == local_host_)
    peer.process.start_time = process_start_time(peer.process.real_pid);
  // A process restored from images (not one registering again): the run
  // the previous coordinator knew was ended for this restart; its processes,
  // maybe restored on other hosts now, are not expected back.
  if (peer.process.restart_count > 0 && !peer.process.rejoining)
    std::erase_if(expected_, [](const Expected& x) { return x.loaded; });
  std::erase_if(expected_, [&](const Expected& x) {
    return x.entry.vpid == peer.process.vpid && x.entry.host == peer.process.host;
  });
  dirty_ = true;
}

void JobRoster::on_disconnect(const Peer& peer, Clock::time_point now) {
  dirty_ = true;
  // An exec'd image registers again; a process of another host that hangs
  // up has ended as far as we can tell.
  if (peer.execing || peer.process.host != local_host_) return;
  if (peer.process.start_time != 0) expected_.push_back(Expected{entry_of(peer), now});
}

void JobRoster::forget_gone(Clock::time_point now) {
  size_t before = expected_.size();
  std::erase_if(expected_, [&](const Expected& x) {
    switch (liveness(x.entry, local_host_)) {
      case Liveness::kGone:
        return true;
      case Liveness::kUnknown:
        return now - x.since >= kRemoteGrace;
      case Liveness::kRunning:
        return false;
    }
    return false;
  });
  if (expected_.size() != before) dirty_ = true;
}

std::vector<RosterEntry> JobRoster::missing(Clock::time_point now) {
  forget_gone(now);
  std::vector<RosterEntry> out;
  for (const Expected& x : expected_)
    if (now - x.since >= kSettle) out.push_back(x.entry);
  return out;
}

std::string JobRoster::missing_text(Clock::time_point now) {
  std::vector<RosterEntry> gone = missing(now);
  if (gone.empty()) return "";
  std::string names;
  for (size_t i = 0; i < gone.size() && i < 4; i++) names += (i ? ", " : "") + gone[i].label();
  if (gone.size() > 4) names += ", ...";
  return std::to_string(gone.size()) +
         (gone.size() == 1 ? " process of the job runs" : " processes of the job run") +
         " without a coordinator (not registered here yet; they retry every few "
         "seconds): " +
         names;
}

void JobRoster::save(PeerTable& peers, Clock::time_point now) {
  forget_gone(now);
  if (!dirty_) return;
  dirty_ = false;
  std::vector<RosterEntry> entries;
  for (const Peer* p : peers.processes()) entries.push_back(entry_of(*p));
  for (const Expected& x : expected_) entries.push_back(x.entry);
  if (std::string error = write_roster(dir_, entries); !error.empty())
    log_line("warning: %s", error.c_str());
}

}  // namespace ckpt
