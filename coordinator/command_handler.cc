// ckpt_command requests and their replies (see command_handler.h).
#include "command_handler.h"

#include <algorithm>
#include <cstdio>

#include "log.h"

namespace ckpt {
namespace {

constexpr auto kKillTimeout = std::chrono::seconds(10);

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace

bool CommandHandler::on_command(Peer& peer, const Frame& frame, Clock::time_point now) {
  using proto::Msg;
  if (peer.command_pending) {  // reply directly: the pending one still waits
    peer.conn.queue_message(Msg::kCmdReply,
                            proto::CmdReply{0, "one command at a time on a connection"});
    return true;
  }
  peer.command_pending = true;
  switch (frame.type) {
    case Msg::kCmdCheckpoint:
      request_checkpoint(peer.id, now);
      return true;
    case Msg::kCmdStatus: {
      proto::CmdStatus cmd;
      if (!decode_payload(frame, &cmd)) return false;
      reply(peer.id, true, status_text(cmd.json != 0));
      return true;
    }
    case Msg::kCmdKill:
    case Msg::kCmdQuit:
      request_kill(peer.id, frame.type == Msg::kCmdQuit, now);
      return true;
    default:
      return false;
  }
}

void CommandHandler::request_checkpoint(PeerId command, Clock::time_point now) {
  if (machine_.active()) {
    log_line("checkpoint requested while one runs: it will follow");
    queued_waiters_.push_back(command);
    return;
  }
  running_waiters_.push_back(command);
  start_checkpoint(now);
}

void CommandHandler::start_checkpoint(Clock::time_point now) {
  if (auto failed = machine_.start(now)) {
    for (PeerId id : running_waiters_) reply(id, false, failed->text);
    running_waiters_.clear();
  }
}

void CommandHandler::request_kill(PeerId command, bool quit, Clock::time_point now) {
  KillRequest req{command, quit, 0, {}, now + kKillTimeout};
  for (Peer* p : peers_.processes()) {
    p->conn.queue(proto::Msg::kKill);
    req.waiting.insert(p->id);
  }
  req.total = req.waiting.size();
  log_line("%s: sent Kill to %zu processes", quit ? "quit" : "kill", req.total);
  if (req.waiting.empty()) {
    finish_kill(req, false);
    return;
  }
  kills_.push_back(std::move(req));
}

void CommandHandler::finish_kill(const KillRequest& req, bool timed_out) {
  std::string text = "killed " + std::to_string(req.total - req.waiting.size()) + " of " +
                     std::to_string(req.total) + " processes";
  if (!timed_out)
    text = "killed " + std::to_string(req.total) + (req.total == 1 ? " process" : " processes");
  if (timed_out) {
    text += "; still connected after " + std::to_string(kKillTimeout.count()) + " s:";
    for (PeerId id : req.waiting) {
      if (Peer* p = peers_.find(id)) text += " " + p->process.label();
    }
  }
  if (req.quit) text += "; coordinator exiting";
  reply(req.command, true, text);
  if (req.quit) quit_ = true;
}

void CommandHandler::on_disconnect(Peer& peer) {
  auto drop = [&](std::vector<PeerId>& v) { std::erase(v, peer.id); };
  drop(running_waiters_);
  drop(queued_waiters_);
  for (auto& req : kills_) req.waiting.erase(peer.id);
}

void CommandHandler::on_tick(Clock::time_point now) {
  if (auto result = machine_.take_result()) {
    for (PeerId id : running_waiters_) reply(id, result->ok, result->text);
    running_waiters_.clear();
  }
  if (!machine_.active() && !queued_waiters_.empty()) {
    running_waiters_ = std::move(queued_waiters_);
    queued_waiters_.clear();
    start_checkpoint(now);
  }
  std::vector<KillRequest> still;
  for (auto& req : kills_) {
    if (req.waiting.empty()) {
      finish_kill(req, false);
    } else if (now >= req.deadline) {
      finish_kill(req, true);
    } else {
      still.push_back(std::move(req));
    }
  }
  kills_ = std::move(still);
}

std::optional<Clock::time_point> CommandHandler::deadline() const {
  std::optional<Clock::time_point> out;
  for (const auto& req : kills_)
    if (!out || req.deadline < *out) out = req.deadline;
  return out;
}

void CommandHandler::reply(PeerId command, bool ok, const std::string& text) {
  Peer* peer = peers_.find(command);
  if (!peer || peer->dead) return;
  peer->command_pending = false;
  peer->conn.queue_message(proto::Msg::kCmdReply,
                           proto::CmdReply{ok ? uint8_t{1} : uint8_t{0}, text});
}

std::string CommandHandler::status_text(bool json) {
  std::vector<Peer*> procs = peers_.processes();
  const char* state = machine_.active() ? "checkpointing" : "idle";
  std::string out;
  if (!json) {
    out = "coordinator: port " + std::to_string(port_) + ", dir " + store_.dir() + ", generation " +
          std::to_string(store_.committed()) + ", " + std::to_string(procs.size()) +
          (procs.size() == 1 ? " process" : " processes") + ", state " + state + "\n";
    for (Peer* p : procs) {
      const ProcessRecord& r = p->process;
      out += std::to_string(r.vpid) + " " + std::to_string(r.vppid) + " " + std::to_string(r.rank) +
             " " + r.program + " " + r.host + " " + state_name(p->state) + "\n";
    }
    return out;
  }
  out = "{\"port\": " + std::to_string(port_) + ", \"dir\": " + json_string(store_.dir()) +
        ", \"generation\": " + std::to_string(store_.committed()) +
        ", \"process_count\": " + std::to_string(procs.size()) +
        ", \"state\": " + json_string(state) + ", \"processes\": [";
  for (size_t i = 0; i < procs.size(); i++) {
    const ProcessRecord& r = procs[i]->process;
    out += std::string(i ? ", " : "") + "{\"vpid\": " + std::to_string(r.vpid) +
           ", \"ppid\": " + std::to_string(r.vppid) +
           ", \"real_pid\": " + std::to_string(r.real_pid) +
           ", \"rank\": " + std::to_string(r.rank) +
           ", \"restart_count\": " + std::to_string(r.restart_count) +
           ", \"program\": " + json_string(r.program) + ", \"host\": " + json_string(r.host) +
           ", \"state\": " + json_string(state_name(procs[i]->state)) + "}";
  }
  return out + "]}\n";
}

}  // namespace ckpt
