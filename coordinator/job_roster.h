// JobRoster: which processes of the job exist beyond those connected now.
//
// The coordinator keeps <dir>/.ckpt_processes (roster_file.h) equal to its
// registered processes, so that a coordinator that dies leaves the list
// behind. The next one started on the same dir loads it: those processes are
// expected back (they register again by themselves, see protocol.h). A
// process of this host whose connection drops while it still runs is
// expected back too.
//
// An expected process is *missing* while it has not registered again and
//  - runs on this host (same pid and start time, not a zombie), checked a
//    moment (kSettle) after its connection dropped, since a process that
//    exits closes its connection before it is gone; or
//  - runs on another host (not checkable from here) and was recorded less
//    than kRemoteGrace ago (it registers again within a few seconds).
// A checkpoint while processes are missing would leave them out: it is
// refused (see missing_text), and --status lists them.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/roster_file.h"
#include "peer_table.h"

namespace ckpt {

class JobRoster {
 public:
  JobRoster(std::string dir, std::string local_host)
      : dir_(std::move(dir)), local_host_(std::move(local_host)) {}

  // Takes the roster file a previous coordinator left: expected processes.
  void load(Clock::time_point now);
  void on_registered(Peer& peer);
  // A process's connection closed; `execing`: its new image comes back.
  void on_disconnect(const Peer& peer, Clock::time_point now);
  // Expected processes that are missing now (see the top of this file).
  std::vector<RosterEntry> missing(Clock::time_point now);
  // "" or one line naming the missing processes (at most a few).
  std::string missing_text(Clock::time_point now);
  // Rewrites the roster file if the set changed: the registered processes
  // and the expected ones not known to be gone.
  void save(PeerTable& peers, Clock::time_point now);

  static constexpr auto kSettle = std::chrono::seconds(2);
  static constexpr auto kRemoteGrace = std::chrono::seconds(20);

 private:
  struct Expected {
    RosterEntry entry;
    Clock::time_point since;  // loaded or disconnected then
    bool loaded = false;      // from the previous coordinator's roster
  };
  RosterEntry entry_of(const Peer& peer) const;
  void forget_gone(Clock::time_point now);

  std::string dir_;
  std::string local_host_;
  std::vector<Expected> expected_;
  bool dirty_ = false;
};

}  // namespace ckpt
