// Rounds of the multi-host restart rendezvous (see rendezvous.h).
#include "rendezvous.h"

#include <algorithm>
#include <set>

#include "ckpt/byte_codec.h"
#include "ckpt/protocol.h"
#include "log.h"

namespace ckpt {
namespace {

std::vector<std::string> split_members(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    size_t end = text.find(proto::kMemberSeparator);
    std::string_view name = text.substr(0, end);
    if (!name.empty() && std::find(out.begin(), out.end(), name) == out.end())
      out.emplace_back(name);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return out;
}

bool shares_member(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (const auto& name : a)
    if (std::find(b.begin(), b.end(), name) != b.end()) return true;
  return false;
}

std::string hosts(size_t n) { return std::to_string(n) + (n == 1 ? " host" : " hosts"); }

}  // namespace

void Rendezvous::join(WaiterId waiter, std::string_view round_name, uint32_t expected,
                      std::string_view members_text, std::string_view blob, Done done) {
  std::string label = "rendezvous round '" + std::string(round_name) + "'";
  std::vector<std::string> members = split_members(members_text);
  if (round_name.empty()) return done(false, "rendezvous: the round has no name");
  if (expected == 0) return done(false, label + ": expects no hosts");
  if (members.empty()) return done(false, label + ": the request names no host");

  Round* round = find(round_name);
  if (round && round->expected != expected) {
    return done(false,
                label + " expects " + hosts(round->expected) + ", not " + std::to_string(expected));
  }

  // The contributions as they would be with this request.
  std::vector<Contribution> next;
  if (round) {
    for (const auto& c : round->contributions)
      if (!shares_member(c.members, members)) next.push_back(c);
  }
  next.push_back(Contribution{members, std::string(blob)});
  std::set<std::string_view> all;
  for (const auto& c : next) all.insert(c.members.begin(), c.members.end());
  size_t count = all.size();  // before `next` moves away under the views
  if (count > expected) {
    return done(false, label + " expects " + hosts(expected) + ", and this request would make " +
                           std::to_string(count));
  }

  if (!round) round = &create(round_name, expected);
  round->contributions = std::move(next);
  if (round->complete) return done(true, blob_list(*round));
  round->waiters.emplace_back(waiter, std::move(done));
  if (count < expected) {
    std::string names;
    for (const auto& name : members) names += (names.empty() ? "" : ", ") + name;
    log_line("%s: %s published, %zu of %u hosts", label.c_str(), names.c_str(), count, expected);
    return;
  }

  round->complete = true;
  size_t n = round->contributions.size();
  log_line("%s complete: %zu %s for %s", label.c_str(), n, n == 1 ? "blob" : "blobs",
           hosts(expected).c_str());
  std::string text = blob_list(*round);
  // Callbacks may join again: they run on a moved-out list.
  auto waiters = std::move(round->waiters);
  round->waiters.clear();
  for (auto& [id, waiter_done] : waiters) waiter_done(true, text);
}

void Rendezvous::drop_waiter(WaiterId waiter) {
  for (auto& round : rounds_) {
    std::erase_if(round.waiters, [&](const auto& w) { return w.first == waiter; });
  }
}

size_t Rendezvous::waiting(std::string_view name) const {
  const Round* round = find(name);
  return round ? round->waiters.size() : 0;
}

Rendezvous::Round* Rendezvous::find(std::string_view name) {
  for (auto& round : rounds_)
    if (round.name == name) return &round;
  return nullptr;
}

const Rendezvous::Round* Rendezvous::find(std::string_view name) const {
  for (const auto& round : rounds_)
    if (round.name == name) return &round;
  return nullptr;
}

Rendezvous::Round& Rendezvous::create(std::string_view name, uint32_t expected) {
  if (rounds_.size() >= kMaxRounds) {
    Round oldest = std::move(rounds_.front());
    rounds_.pop_front();
    log_line("rendezvous round '%s' dropped: more than %zu rounds", oldest.name.c_str(),
             kMaxRounds);
    std::string why = "rendezvous round '" + oldest.name + "' was dropped: more than " +
                      std::to_string(kMaxRounds) + " rounds at once";
    for (auto& [id, done] : oldest.waiters) done(false, why);
  }
  Round& round = rounds_.emplace_back();
  round.name = std::string(name);
  round.expected = expected;
  return round;
}

std::string Rendezvous::blob_list(const Round& round) {
  ByteWriter w;
  proto::encode_blob_list(
      w, static_cast<uint32_t>(round.contributions.size()),
      [&](uint32_t i) -> std::string_view { return round.contributions[i].blob; });
  return std::string(reinterpret_cast<const char*>(w.data()), w.size());
}

}  // namespace ckpt
