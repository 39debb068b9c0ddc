// ckpt_command requests and their replies (see command_handler.h).
#include "command_handler.h"

#include <algorithm>
#include <cstdio>

#include "log.h"

namespace ckpt {
namespace {

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
    case Msg::kCmdCheckpoint: {
      proto::CmdCheckpoint cmd;
      if (!decode_payload(frame, &cmd)) return false;
      checkpoint(peer.id, (cmd.flags & proto::kCheckpointThenKill) != 0, now);
      return true;
    }
    case Msg::kCmdStatus: {
      proto::CmdStatus cmd;
      if (!decode_payload(frame, &cmd)) return false;
      reply(peer.id, true, status_text(cmd.json != 0));
      return true;
    }
    case Msg::kCmdKill:
    case Msg::kCmdQuit:
      kill(peer.id, frame.type == Msg::kCmdQuit, now);
      return true;
    case Msg::kCmdInterval: {
      proto::CmdInterval cmd;
      if (!decode_payload(frame, &cmd)) return false;
      ctx_.periodic.set_interval(cmd.seconds, now);
      reply(peer.id, true,
            cmd.seconds ? "checkpoint interval " + std::to_string(cmd.seconds) + " s"
                        : "periodic checkpoints off");
      return true;
    }
    default:
      return false;
  }
}

// With then_kill, the processes are killed (SIGKILL, as --kill does) only
// once the checkpoint committed; a failed checkpoint leaves them running.
void CommandHandler::checkpoint(PeerId command, bool then_kill, Clock::time_point now) {
  ctx_.queue.request(
      [this, command, then_kill](const CheckpointResult& result) {
        if (!then_kill || !result.ok) {
          std::string text = result.text;
          if (then_kill) text += "; not killing the computation";
          return reply(command, result.ok, text);
        }
        ctx_.killer.kill_all(
            -1, "checkpoint then kill",
            [this, command, text = result.text](const std::string& killed) {
              reply(command, true, text + "; " + killed);
            },
            Clock::now());
      },
      now);
}

void CommandHandler::kill(PeerId command, bool quit, Clock::time_point now) {
  ctx_.killer.kill_all(
      -1, quit ? "quit" : "kill",
      [this, command, quit](const std::string& killed) {
        reply(command, true, quit ? killed + "; coordinator exiting" : killed);
        if (quit) quit_ = true;
      },
      now);
}

void CommandHandler::reply(PeerId command, bool ok, const std::string& text) {
  Peer* peer = ctx_.peers.find(command);
  if (!peer || peer->dead) return;
  peer->command_pending = false;
  peer->conn.queue_message(proto::Msg::kCmdReply,
                           proto::CmdReply{ok ? uint8_t{1} : uint8_t{0}, text});
}

std::string CommandHandler::status_text(bool json) {
  std::vector<Peer*> procs = ctx_.peers.processes();
  const char* state = ctx_.preemption.active() ? "preempting"
                      : ctx_.machine.active()  ? "checkpointing"
                                               : "idle";
  uint32_t interval = ctx_.periodic.interval();
  std::string out;
  if (!json) {
    out = "coordinator: port " + std::to_string(ctx_.port) + ", dir " + ctx_.store.dir() +
          ", generation " + std::to_string(ctx_.store.committed()) + ", " +
          std::to_string(procs.size()) + (procs.size() == 1 ? " process" : " processes") +
          ", state " + state;
    if (interval) out += ", interval " + std::to_string(interval) + " s";
    out += "\n";
    for (Peer* p : procs) {
      const ProcessRecord& r = p->process;
      out += std::to_string(r.vpid) + " " + std::to_string(r.vppid) + " " + std::to_string(r.rank) +
             " " + r.program + " " + r.host + " " + state_name(p->state) + "\n";
    }
    return out;
  }
  out = "{\"port\": " + std::to_string(ctx_.port) + ", \"dir\": " + json_string(ctx_.store.dir()) +
        ", \"generation\": " + std::to_string(ctx_.store.committed()) +
        ", \"interval\": " + std::to_string(interval) +
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
