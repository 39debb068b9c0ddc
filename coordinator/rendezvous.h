// Rendezvous: the coordinator's name service for a multi-host restart
// (CmdRendezvous in protocol.h). Each ckpt_restart publishes one blob for the
// old hosts it restores (its members) under a round name and waits; once the
// round's members number `expected`, every waiter is told every blob.
//
// Pure bookkeeping, like CheckpointQueue: a requester gives a Done, called
// exactly once, from join() itself (an error, or a round already complete) or
// from a later join() that completes the round, unless drop_waiter() forgets
// it first (its connection closed; its blob stays). Rules:
//   - A round is created by its first request, which sets `expected`; a
//     request with another `expected` is refused and changes nothing.
//   - The reply lists the round's blobs in arrival order, one per request; a
//     request naming a member that an earlier request named replaces that
//     earlier request's whole contribution.
//   - A request that would take the round past `expected` members is refused.
//   - Once complete, a round stays complete: later requests still replace
//     their members' contributions, and are answered at once with the list.
//   - At most kMaxRounds rounds are kept; creating one more drops the oldest
//     and refuses its waiters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ckpt {

class Rendezvous {
 public:
  using WaiterId = uint64_t;
  // ok: text is the encoded blob list (proto::encode_blob_list); else a
  // one-line reason.
  using Done = std::function<void(bool ok, const std::string& text)>;
  static constexpr size_t kMaxRounds = 16;

  // `members`: names separated by proto::kMemberSeparator (empty names are
  // ignored).
  void join(WaiterId waiter, std::string_view round, uint32_t expected, std::string_view members,
            std::string_view blob, Done done);
  // The waiter's connection closed: it is no longer told anything.
  void drop_waiter(WaiterId waiter);

  size_t round_count() const { return rounds_.size(); }
  // Requesters of `round` still waiting (0 if there is no such round).
  size_t waiting(std::string_view round) const;

 private:
  struct Contribution {
    std::vector<std::string> members;
    std::string blob;
  };
  struct Round {
    std::string name;
    uint32_t expected = 0;
    bool complete = false;
    std::vector<Contribution> contributions;  // arrival order
    std::vector<std::pair<WaiterId, Done>> waiters;
  };

  Round* find(std::string_view name);
  const Round* find(std::string_view name) const;
  Round& create(std::string_view name, uint32_t expected);
  static std::string blob_list(const Round& round);

  std::deque<Round> rounds_;  // oldest first
};

}  // namespace ckpt
