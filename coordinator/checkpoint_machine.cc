// The checkpoint state machine (see checkpoint_machine.h).
#include "checkpoint_machine.h"

#include <algorithm>
#include <set>

#include "log.h"

namespace ckpt {

std::optional<CheckpointResult> CheckpointMachine::start(Clock::time_point now) {
  if (active()) return CheckpointResult{false, "a checkpoint is already running"};
  std::vector<Peer*> procs = peers_.processes();
  if (procs.empty()) return CheckpointResult{false, "no processes to checkpoint"};
  uint64_t gen = store_.next();
  if (std::string error = store_.create(gen); !error.empty()) {
    log_line("checkpoint %llu not started: %s", static_cast<unsigned long long>(gen),
             error.c_str());
    return CheckpointResult{false, error};
  }
  gen_ = gen;
  parts_.clear();
  std::string dir = store_.gen_dir(gen);
  for (Peer* p : procs) {
    parts_.push_back(Participant{p->id, p->process, false, false, {}});
    p->state = ProcessState::kSuspending;
    p->conn.queue_message(proto::Msg::kSuspend, proto::Suspend{gen, dir});
  }
  phase_ = Phase::kSuspending;
  started_ = now;
  deadline_ = now + phase_timeout_;
  log_line("checkpoint %llu started: %zu processes, dir %s", static_cast<unsigned long long>(gen),
           parts_.size(), dir.c_str());
  return std::nullopt;
}

CheckpointMachine::Participant* CheckpointMachine::find(PeerId id) {
  for (auto& part : parts_)
    if (part.id == id) return &part;
  return nullptr;
}

Peer* CheckpointMachine::live(const Participant& part) {
  if (part.gone) return nullptr;
  Peer* peer = peers_.find(part.id);
  return peer && !peer->dead ? peer : nullptr;
}

bool CheckpointMachine::all_replied() const {
  for (const auto& part : parts_)
    if (!part.replied) return false;
  return true;
}

void CheckpointMachine::on_suspended(Peer& peer, const proto::Suspended& msg) {
  if (peer.stale_reply == proto::Msg::kSuspended) {
    peer.stale_reply.reset();  // answer to a Suspend of an aborted checkpoint
    return;
  }
  Participant* part = find(peer.id);
  if (phase_ != Phase::kSuspending || !part || part->replied) {
    log_line("ignoring an unexpected Suspended from process %s", peer.process.label().c_str());
    return;
  }
  part->replied = true;
  if (!msg.ok) {
    fail(part, msg.error.empty() ? "could not suspend" : std::string(msg.error));
    return;
  }
  if (all_replied()) begin_write(Clock::now());
}

void CheckpointMachine::begin_write(Clock::time_point now) {
  phase_ = Phase::kWriting;
  deadline_ = now + phase_timeout_;
  for (auto& part : parts_) {
    part.replied = false;
    Peer* peer = live(part);
    if (!peer) continue;
    peer->state = ProcessState::kWriting;
    peer->conn.queue(proto::Msg::kWrite);
  }
}

void CheckpointMachine::on_written(Peer& peer, const proto::Written& msg) {
  if (peer.stale_reply == proto::Msg::kWritten) {
    peer.stale_reply.reset();
    return;
  }
  Participant* part = find(peer.id);
  if (phase_ != Phase::kWriting || !part || part->replied) {
    log_line("ignoring an unexpected Written from process %s", peer.process.label().c_str());
    return;
  }
  part->replied = true;
  part->image = std::string(msg.image);
  if (!msg.ok) {
    fail(part, msg.error.empty() ? "could not write its image" : std::string(msg.error));
    return;
  }
  if (all_replied()) commit();
}

void CheckpointMachine::commit() {
  std::vector<std::string> images;
  std::set<std::string> seen;
  std::vector<std::string> hosts;
  uint32_t restart_count = 0;
  uint64_t total = 0;
  for (const auto& part : parts_) {
    uint64_t bytes = 0;
    if (std::string error = store_.check_image(gen_, part.image, &bytes); !error.empty())
      return fail(&part, error);
    if (!seen.insert(part.image).second)
      return fail(&part, "image name " + part.image + " is used by another process too");
    images.push_back(part.image);
    hosts.push_back(part.process.host);
    restart_count = std::max(restart_count, part.process.restart_count);
    total += bytes;
  }
  std::string warnings;
  std::string metadata = manifest_metadata(job_, restart_count, hosts);
  if (std::string error = store_.commit(gen_, images, metadata, &warnings); !error.empty())
    return fail(nullptr, error);

  for (const auto& part : parts_) {
    Peer* peer = live(part);
    if (!peer) continue;
    peer->state = ProcessState::kRunning;
    peer->conn.queue_message(proto::Msg::kResume, proto::Resume{1, gen_});
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_).count();
  std::string text = prefix() + " committed: " + std::to_string(images.size()) +
                     (images.size() == 1 ? " image, " : " images, ") + std::to_string(total) +
                     " bytes, " + std::to_string(ms) + " ms";
  if (!warnings.empty()) text += " (warning: " + warnings + ")";
  finish(true, text);
}

void CheckpointMachine::fail(const Participant* culprit, const std::string& reason) {
  proto::Msg owed = phase_ == Phase::kSuspending ? proto::Msg::kSuspended : proto::Msg::kWritten;
  for (const auto& part : parts_) {
    Peer* peer = live(part);
    if (!peer) continue;
    if (!part.replied) peer->stale_reply = owed;
    peer->state = ProcessState::kRunning;
    peer->conn.queue_message(proto::Msg::kResume, proto::Resume{0, gen_});
  }
  store_.discard(gen_);
  std::string who = culprit ? "process " + culprit->process.label() + ": " : "";
  finish(false, prefix() + " failed: " + who + reason);
}

void CheckpointMachine::finish(bool ok, std::string text) {
  log_line("%s", text.c_str());
  phase_ = Phase::kIdle;
  parts_.clear();
  result_ = CheckpointResult{ok, std::move(text)};
}

void CheckpointMachine::on_disconnect(Peer& peer) {
  Participant* part = find(peer.id);
  if (!active() || !part) return;
  part->gone = true;
  fail(part, phase_ == Phase::kSuspending ? "disconnected while suspending"
                                          : "disconnected while writing its image");
}

void CheckpointMachine::on_tick(Clock::time_point now) {
  if (!active() || now < deadline_) return;
  const Participant* late = nullptr;
  size_t late_count = 0;
  for (const auto& part : parts_) {
    if (part.replied) continue;
    if (!late) late = &part;
    late_count++;
  }
  std::string reason = std::string("no reply to ") +
                       (phase_ == Phase::kSuspending ? "Suspend" : "Write") + " within " +
                       std::to_string(phase_timeout_.count()) + " s";
  if (late_count > 1)
    reason += " (nor from " + std::to_string(late_count - 1) + " other processes)";
  fail(late, reason);
}

std::optional<Clock::time_point> CheckpointMachine::deadline() const {
  if (!active()) return std::nullopt;
  return deadline_;
}

std::optional<CheckpointResult> CheckpointMachine::take_result() {
  auto out = std::move(result_);
  result_.reset();
  return out;
}

}  // namespace ckpt
