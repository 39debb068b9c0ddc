// One CmdRendezvous round trip over a CoordinatorLink (see rendezvous_client.h).
#include "rendezvous_client.h"

#include <poll.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "coordinator_link.h"

namespace ckpt {
namespace {

constexpr int kReplyReadTimeoutMs = 10000;  // once the reply has started arriving

std::string join_members(const std::vector<std::string>& members, std::string* err) {
  std::string out;
  for (const auto& name : members) {
    if (name.empty() || name.find(proto::kMemberSeparator) != std::string::npos) {
      *err = "rendezvous: a host name is empty or contains a newline";
      return "";
    }
    if (!out.empty()) out += proto::kMemberSeparator;
    out += name;
  }
  if (out.empty()) *err = "rendezvous: no host to publish";
  return out;
}

// Waits until the link has something to read. False: the time ran out.
bool wait_readable(int fd, int timeout_seconds) {
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + std::chrono::seconds(timeout_seconds);
  for (;;) {
    int ms = -1;
    if (timeout_seconds > 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      ms = static_cast<int>(left.count());
    }
    pollfd pfd{fd, POLLIN, 0};
    int r = ::poll(&pfd, 1, ms);
    if (r > 0) return true;  // data, EOF or an error: recv() tells which
    if (r < 0 && errno != EINTR) return true;
  }
}

}  // namespace

bool rendezvous(const Settings& settings, const Secret& secret, std::string_view round,
                uint32_t expected, const std::vector<std::string>& members, std::string_view blob,
                int timeout_seconds, std::vector<std::string>* blobs, std::string* err) {
  blobs->clear();
  err->clear();
  std::string names = join_members(members, err);
  if (!err->empty()) return false;

  CoordinatorLink link;
  if (link.open(settings, secret, proto::Role::kCommand) != LinkStatus::kOk) {
    *err = link.error();
    return false;
  }
  if (!link.send_message(proto::Msg::kCmdRendezvous,
                         proto::CmdRendezvous{round, expected, names, blob})) {
    *err = link.error();
    return false;
  }
  if (!wait_readable(link.fd(), timeout_seconds)) {
    *err = "waited " + std::to_string(timeout_seconds) +
           " s for the other hosts of the checkpoint to restart (rendezvous round '" +
           std::string(round) + "' at " + link.where() + ")";
    return false;
  }
  link.set_timeout_ms(kReplyReadTimeoutMs);
  auto frame = link.recv();
  proto::CmdReply reply;
  if (!frame) {
    *err = link.error();
    return false;
  }
  if (frame->type != proto::Msg::kCmdReply || !decode_payload(*frame, &reply)) {
    *err = "coordinator at " + link.where() + " sent " + msg_name(frame->type) +
           " instead of a rendezvous reply";
    return false;
  }
  if (!reply.ok) {
    *err = "coordinator at " + link.where() + ": " + std::string(reply.text);
    return false;
  }
  bool well_formed =
      proto::decode_blob_list(reply.text, [&](std::string_view b) { blobs->emplace_back(b); });
  if (!well_formed) {
    blobs->clear();
    *err = "coordinator at " + link.where() + " sent a malformed rendezvous reply";
    return false;
  }
  return true;
}

}  // namespace ckpt
