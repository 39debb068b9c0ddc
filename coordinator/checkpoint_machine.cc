// The checkpoint state machine (see checkpoint_machine.h).
#include "checkpoint_machine.h"

#include <algorithm>
#include <set>

#include "common/frame.h"
#include "log.h"

namespace ckpt {
namespace {

// What a phase asks of each process and what each then owes.
struct PhaseTraits {
  const char* request;  // the message each process was sent
  proto::Msg reply;     // the answer each owes
  const char* doing;    // "disconnected while ..."
};

PhaseTraits traits(CheckpointMachine::Phase phase) {
  switch (phase) {
    case CheckpointMachine::Phase::kSnapshotting:
      return {"Snapshot", proto::Msg::kSnapshotted, "taking its snapshot"};
    case CheckpointMachine::Phase::kWriting:
      return {"Write", proto::Msg::kWritten, "writing its image"};
    default:
      return {"Suspend", proto::Msg::kSuspended, "suspending"};
  }
}

}  // namespace

std::optional<CheckpointResult> CheckpointMachine::start(Clock::time_point now, bool last) {
  if (active()) return CheckpointResult{false, "a checkpoint is already running"};
  std::vector<Peer*> procs = peers_.processes();
  if (std::string why = gate_ ? gate_() : ""; !why.empty()) {
    log_line("checkpoint not started: %s", why.c_str());
    return CheckpointResult{false, "checkpoint refused: " + why};
  }
  if (procs.empty()) return CheckpointResult{false, "no processes to checkpoint"};
  uint64_t gen = store_.next();
  if (std::string error = store_.create(gen); !error.empty()) {
    log_line("checkpoint %llu not started: %s", static_cast<unsigned long long>(gen),
             error.c_str());
    return CheckpointResult{false, error};
  }
  gen_ = gen;
  dir_ = store_.gen_dir(gen);
  parts_.clear();
  many_hosts_ = std::any_of(procs.begin(), procs.end(), [&](const Peer* p) {
    return p->process.host != procs[0]->process.host;
  });
  last_ = last;
  stopped_ = written_ = 0;
  bytes_ = 0;
  started_ = now;
  for (Peer* p : procs) enlist(*p);
  phase_ = Phase::kSuspending;
  deadline_ = now + phase_timeout_;
  log_line("checkpoint %llu started: %zu processes, dir %s", static_cast<unsigned long long>(gen),
           parts_.size(), dir_.c_str());
  report_progress();
  return std::nullopt;
}

// Makes the peer a participant and sends it Suspend.
void CheckpointMachine::enlist(Peer& peer) {
  parts_.push_back(Participant{peer.id, peer.process});
  suspend(peer);
}

void CheckpointMachine::suspend(Peer& peer) {
  peer.state = ProcessState::kSuspending;
  peer.conn.queue_message(proto::Msg::kSuspend, proto::Suspend{gen_, dir_, many_hosts_, last_});
}

void CheckpointMachine::on_registered(Peer& peer) {
  if (phase_ == Phase::kIdle) return;
  std::string label = peer.process.label();
  if (phase_ != Phase::kSuspending) {
    log_line("%s: process %s registered after every process had stopped; not part of it",
             prefix().c_str(), label.c_str());
    return;
  }
  Participant* part = predecessor(peer.process);
  if (!part) {
    log_line("%s: process %s joins it (registered while suspending)", prefix().c_str(),
             label.c_str());
    return enlist(peer);
  }
  log_line("%s: process %s takes the place of the image it exec'd from", prefix().c_str(),
           label.c_str());
  *part = Participant{peer.id, peer.process};
  suspend(peer);
}

bool CheckpointMachine::yet_to_suspend(PeerId id) const {
  if (phase_ != Phase::kSuspending) return false;
  for (const auto& part : parts_)
    if (part.id == id) return !part.replied && !part.gone;
  return false;
}

CheckpointMachine::Participant* CheckpointMachine::find(PeerId id) {
  for (auto& part : parts_)
    if (part.id == id) return &part;
  return nullptr;
}

// The participant a newly registered process succeeds after an exec: same
// vpid and host, and either gone with Execing or still saying it is about
// to exec (its disconnection may not have been seen yet).
CheckpointMachine::Participant* CheckpointMachine::predecessor(const ProcessRecord& process) {
  for (auto& part : parts_) {
    if (part.process.vpid != process.vpid || part.process.host != process.host) continue;
    Peer* peer = live(part);
    if (part.awaiting_successor || (peer && peer->execing)) return &part;
  }
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

// The participant whose reply of `phase` this is, marked replied; nullptr
// for an answer owed to an aborted checkpoint or one that is not expected.
CheckpointMachine::Participant* CheckpointMachine::take_reply(Peer& peer, Phase phase) {
  proto::Msg type = traits(phase).reply;
  if (peer.stale_reply == type) {
    peer.stale_reply.reset();  // answer to a request of an aborted checkpoint
    return nullptr;
  }
  Participant* part = find(peer.id);
  if (phase_ != phase || !part || part->replied) {
    log_line("ignoring an unexpected %s from process %s", msg_name(type).c_str(),
             peer.process.label().c_str());
    return nullptr;
  }
  part->replied = true;
  return part;
}

void CheckpointMachine::on_suspended(Peer& peer, const proto::Suspended& msg) {
  Participant* part = take_reply(peer, Phase::kSuspending);
  if (!part) return;
  if (!msg.ok) return fail(part, msg.error.empty() ? "could not suspend" : std::string(msg.error));
  stopped_++;
  if (all_replied()) begin_phase(Phase::kSnapshotting, Clock::now());
  report_progress();
}

void CheckpointMachine::on_snapshotted(Peer& peer, const proto::Snapshotted& msg) {
  Participant* part = take_reply(peer, Phase::kSnapshotting);
  if (!part) return;
  if (!msg.ok)
    return fail(part, msg.error.empty() ? "could not take its snapshot" : std::string(msg.error));
  if (all_replied()) begin_phase(Phase::kWriting, Clock::now());
  report_progress();
}

void CheckpointMachine::on_written(Peer& peer, const proto::Written& msg) {
  Participant* part = take_reply(peer, Phase::kWriting);
  if (!part) return;
  part->image = std::string(msg.image);
  if (!msg.ok)
    return fail(part, msg.error.empty() ? "could not write its image" : std::string(msg.error));
  written_++;
  bytes_ += msg.bytes;
  if (all_replied()) return commit();
  report_progress();
}

// Sends every participant the request of `next` (Snapshot or Write).
void CheckpointMachine::begin_phase(Phase next, Clock::time_point now) {
  phase_ = next;
  (next == Phase::kSnapshotting ? snapshot_at_ : write_at_) = now;
  deadline_ = now + phase_timeout_;
  for (auto& part : parts_) {
    part.replied = false;
    Peer* peer = live(part);
    if (!peer) continue;
    if (next == Phase::kSnapshotting) {
      peer->state = ProcessState::kSnapshotting;
      peer->conn.queue_message(proto::Msg::kSnapshot, proto::Snapshot{gen_});
    } else {
      peer->state = ProcessState::kWriting;
      peer->conn.queue(proto::Msg::kWrite);
    }
  }
}

void CheckpointMachine::commit() {
  const auto commit_at = Clock::now();
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
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_).count();
  std::string metadata = manifest_metadata(job_, restart_count, hosts) +
                         checkpoint_figures(static_cast<uint64_t>(ms), total);
  if (std::string error = store_.commit(gen_, images, metadata, &warnings); !error.empty())
    return fail(nullptr, error);

  for (const auto& part : parts_) {
    Peer* peer = live(part);
    if (!peer) continue;
    peer->state = ProcessState::kRunning;
    peer->conn.queue_message(proto::Msg::kResume, proto::Resume{1, gen_});
  }
  const auto now = Clock::now();
  auto between = [](Clock::time_point a, Clock::time_point b) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count());
  };
  std::string text = prefix() + " committed: " + std::to_string(images.size()) +
                     (images.size() == 1 ? " image, " : " images, ") + std::to_string(total) +
                     " bytes, " + between(started_, now) + " ms";
  if (!warnings.empty()) text += " (warning: " + warnings + ")";
  uint64_t gen = gen_;
  log_line("%s: phases: suspend %s ms, snapshot %s ms, write %s ms, commit %s ms", prefix().c_str(),
           between(started_, snapshot_at_).c_str(), between(snapshot_at_, write_at_).c_str(),
           between(write_at_, commit_at).c_str(), between(commit_at, now).c_str());
  finish(true, text);
  result_->generation = gen;
  result_->processes = static_cast<uint32_t>(images.size());
  result_->bytes = total;
  result_->duration_ms = static_cast<uint64_t>(ms);
}

void CheckpointMachine::report_progress() {
  if (!progress_ || !active()) return;
  proto::CmdProgress p;
  p.generation = gen_;
  p.phase = phase_ == Phase::kWriting        ? proto::ProgressPhase::kWriting
            : phase_ == Phase::kSnapshotting ? proto::ProgressPhase::kSnapshotting
                                             : proto::ProgressPhase::kSuspending;
  p.processes = static_cast<uint32_t>(parts_.size());
  p.stopped = stopped_;
  p.written = written_;
  p.bytes = bytes_;
  p.elapsed_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_).count());
  progress_(p);
}

void CheckpointMachine::fail(const Participant* culprit, const std::string& reason) {
  proto::Msg owed = traits(phase_).reply;
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
  if (peer.execing && phase_ == Phase::kSuspending) {
    part->awaiting_successor = true;
    part->replied = false;  // only its successor's Suspended counts
    log_line("%s: process %s exec'd; waiting for its new image to register", prefix().c_str(),
             part->process.label().c_str());
    return;
  }
  if (phase_ == Phase::kSuspending && !part->replied && !peer.execing && !peer.exiting)
    return fail(part,
                "gone before it stopped, without exiting (killed by a signal, or its host "
                "failed)");
  if (phase_ == Phase::kSuspending && !part->replied && !peer.execing) {
    // It exited before it stopped: nothing of it belongs to this checkpoint
    // (its parent sees a zombie, or nothing if it was reaped).
    log_line("%s: process %s ended before it was suspended; not part of it", prefix().c_str(),
             part->process.label().c_str());
    parts_.erase(parts_.begin() + (part - parts_.data()));
    if (parts_.empty()) return fail(nullptr, "every process ended");
    if (all_replied()) begin_phase(Phase::kSnapshotting, Clock::now());
    return;
  }
  std::string reason = std::string("disconnected while ") + traits(phase_).doing;
  if (peer.execing) reason += " (it called exec)";
  fail(part, reason);
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
  std::string reason = std::string("no reply to ") + traits(phase_).request + " within " +
                       std::to_string(phase_timeout_.count()) + " s";
  if (late && late->awaiting_successor) reason += " (it exec'd and its new image never registered)";
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
