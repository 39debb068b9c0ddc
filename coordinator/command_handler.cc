// ckpt_command requests and their replies (see command_handler.h).
#include "command_handler.h"

#include <algorithm>

#include "lineage_status.h"
#include "log.h"
#include "status_report.h"

namespace ckpt {
namespace {

constexpr uint32_t kMaxHoldSeconds = 3600;

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
      checkpoint(peer.id, (cmd.flags & proto::kCheckpointThenKill) != 0,
                 (cmd.flags & proto::kCheckpointProgress) != 0, now);
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
    case Msg::kCmdHold: {
      proto::CmdHold cmd;
      if (!decode_payload(frame, &cmd)) return false;
      auto seconds = std::chrono::seconds(std::min<uint32_t>(cmd.seconds, kMaxHoldSeconds));
      hold_until_ = now + seconds;
      log_line("held for %lld s: a launcher starts processes",
               static_cast<long long>(seconds.count()));
      reply(peer.id, true, "holding for " + std::to_string(seconds.count()) + " s");
      return true;
    }
    case Msg::kCmdRendezvous: {
      proto::CmdRendezvous cmd;
      if (!decode_payload(frame, &cmd)) return false;
      rendezvous(peer.id, cmd);
      return true;
    }
    default:
      return false;
  }
}

// With then_kill, the processes are killed (SIGKILL, as --kill does) only
// once the checkpoint committed; a failed checkpoint leaves them running.
void CommandHandler::checkpoint(PeerId command, bool then_kill, bool progress,
                                Clock::time_point now) {
  if (progress) progress_listeners_.push_back(command);
  ctx_.queue.request(
      [this, command, then_kill](const CheckpointResult& result) {
        drop_listener(command);
        if (!then_kill || !result.ok) {
          std::string text = result.text;
          if (then_kill) text += "; not killing the computation";
          return reply(command, result.ok, text, &result);
        }
        ctx_.killer.kill_all(
            -1, "checkpoint then kill",
            [this, command, result](const std::string& killed) {
              reply(command, true, result.text + "; " + killed, &result);
            },
            Clock::now());
      },
      now, then_kill);
}

// To every command that asked, about whichever checkpoint runs (a request
// that waits for the next one sees the running one's progress first).
void CommandHandler::send_progress(const proto::CmdProgress& progress) {
  for (PeerId id : progress_listeners_) {
    Peer* peer = ctx_.peers.find(id);
    if (peer && !peer->dead) peer->conn.queue_message(proto::Msg::kCmdProgress, progress);
  }
}

void CommandHandler::drop_listener(PeerId command) { std::erase(progress_listeners_, command); }

void CommandHandler::kill(PeerId command, bool quit, Clock::time_point now) {
  ctx_.killer.kill_all(
      -1, quit ? "quit" : "kill",
      [this, command, quit](const std::string& killed) {
        reply(command, true, quit ? killed + "; coordinator exiting" : killed);
        if (quit) quit_ = true;
      },
      now);
}

// The reply waits until the round is complete; the views of `request` are
// copied by join() before it returns.
void CommandHandler::rendezvous(PeerId command, const proto::CmdRendezvous& request) {
  rendezvous_.join(command, request.round, request.expected, request.members, request.blob,
                   [this, command](bool ok, const std::string& text) { reply(command, ok, text); });
}

void CommandHandler::reply(PeerId command, bool ok, const std::string& text,
                           const CheckpointResult* figures) {
  Peer* peer = ctx_.peers.find(command);
  if (!peer || peer->dead) return;
  peer->command_pending = false;
  proto::CmdReply msg{ok ? uint8_t{1} : uint8_t{0}, text};
  if (figures) {
    msg.generation = figures->generation;
    msg.processes = figures->processes;
    msg.bytes = figures->bytes;
    msg.duration_ms = figures->duration_ms;
  }
  peer->conn.queue_message(proto::Msg::kCmdReply, msg);
}

std::string CommandHandler::status_text(bool json) {
  ctx_.outside.prune(ctx_.peers);
  StatusInputs in;
  in.port = ctx_.port;
  in.dir = ctx_.store.dir();
  in.generation = ctx_.store.committed();
  if (in.generation) in.images = lineage_status(ctx_.store.gen_dir(in.generation));
  in.state = ctx_.preemption.active() ? "preempting"
             : ctx_.machine.active()  ? "checkpointing"
                                      : "idle";
  in.interval = ctx_.periodic.interval();
  for (const Peer* p : ctx_.peers.processes()) in.processes.push_back(p);
  in.outside = ctx_.outside.list();
  in.missing = ctx_.roster.missing(Clock::now());
  if (in.generation) in.last = read_checkpoint_record(ctx_.store.gen_dir(in.generation));
  return json ? status_json(in) : ckpt::status_text(in);
}

}  // namespace ckpt
