// ckpt_command: ask the job's coordinator to checkpoint (and then end the
// computation), report status, kill the computation, quit, or change the
// periodic checkpoint interval; or list the checkpoints the checkpoint dir
// holds (--history, from disk). One request, one reply (a checkpoint's
// progress comes before it); exit 0 on success, 1 if the coordinator says
// the request failed, 2 if we could not ask it.
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "common/checkpoint_history.h"
#include "common/config_file.h"
#include "common/job_secret.h"
#include "common/roster_file.h"
#include "common/settings.h"
#include "launcher/common/checkpoint_report.h"
#include "launcher/common/coordinator_link.h"
#include "launcher/common/history_table.h"

namespace ckpt {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitNoCoordinator = 2;

const char kUsage[] =
    "usage: ckpt_command [--host H] [--port P] [--dir D] [--json | --quiet]\n"
    "                    (--checkpoint [--kill] | --status | --history | --kill | --quit |\n"
    "                     --interval S)\n"
    "  --checkpoint  checkpoint every process of the job; exit 0 once committed. On a\n"
    "                terminal it shows the progress, then one summary line\n"
    "  --checkpoint --kill  checkpoint, then kill every process once it committed;\n"
    "                exit 0 only if it committed (if not, nothing is killed)\n"
    "  --status      print the coordinator's state, the last checkpoint (time, size,\n"
    "                duration), a table of its processes and of the processes outside\n"
    "                the computation\n"
    "  --history     print the checkpoints the checkpoint dir holds (time, duration,\n"
    "                size, processes); needs no coordinator\n"
    "  --kill        kill every process of the job\n"
    "  --quit        kill every process, then stop the coordinator\n"
    "  --interval S  checkpoint every S seconds from now on (0: stop periodic checkpoints)\n"
    "  --json        print one JSON object instead (with --checkpoint, --status, --history)\n"
    "  --quiet       print nothing but errors (with --checkpoint)\n"
    "  --host/--port/--dir  coordinator and checkpoint dir (env CKPT_COORD_HOST,\n"
    "                CKPT_COORD_PORT, CKPT_DIR; or the config files, see ckpt(7))\n";

struct Request {
  Settings settings;
  proto::Msg command{};
  bool json = false;
  bool quiet = false;
  bool history = false;    // --history: read the dir, ask no coordinator
  bool then_kill = false;  // --checkpoint --kill
  uint32_t interval = 0;
};

// --checkpoint and --kill together mean checkpoint-then-kill.
std::string combine(Request* req, bool checkpoint, bool kill, int chosen) {
  if (checkpoint && kill && chosen == 2) {
    req->command = proto::Msg::kCmdCheckpoint;
    req->then_kill = true;
    return "";
  }
  if (chosen != 1)
    return "choose one of --checkpoint [--kill], --status, --history, --kill, --quit, "
           "--interval S";
  return "";
}

// Parses argv; returns an error line ("" if fine, "help" for --help).
std::string parse_args(int argc, char** argv, Request* req) {
  int chosen = 0;
  bool checkpoint = false, kill = false;
  for (int i = 1; i < argc; i++) {
    std::string error, value;
    OptionStatus st = take_settings_option(argc, argv, &i, &req->settings, &error);
    if (st == OptionStatus::kBad) return error;
    if (st == OptionStatus::kTaken) continue;
    std::string arg = argv[i];
    st = take_option_value(argc, argv, &i, "--interval", &value, &error);
    if (st == OptionStatus::kBad) return error;
    if (st == OptionStatus::kTaken) {
      char* end = nullptr;
      unsigned long s = std::strtoul(value.c_str(), &end, 10);
      if (value.empty() || *end || value[0] == '-' || s > UINT32_MAX)
        return "--interval " + value + ": not a number of seconds";
      req->command = proto::Msg::kCmdInterval;
      req->interval = static_cast<uint32_t>(s);
    } else if (arg == "--checkpoint" || arg == "-c") {
      req->command = proto::Msg::kCmdCheckpoint;
      checkpoint = true;
    } else if (arg == "--status" || arg == "-s") {
      req->command = proto::Msg::kCmdStatus;
    } else if (arg == "--kill" || arg == "-k") {
      req->command = proto::Msg::kCmdKill;
      kill = true;
    } else if (arg == "--quit" || arg == "-q") {
      req->command = proto::Msg::kCmdQuit;
    } else if (arg == "--history") {
      req->history = true;
    } else if (arg == "--json") {
      req->json = true;
      continue;
    } else if (arg == "--quiet") {
      req->quiet = true;
      continue;
    } else if (arg == "--help" || arg == "-h") {
      return "help";
    } else {
      return "unknown option " + arg;
    }
    chosen++;
  }
  if (std::string error = combine(req, checkpoint, kill, chosen); !error.empty()) return error;
  bool checkpoint_cmd = req->command == proto::Msg::kCmdCheckpoint;
  if (req->json && !checkpoint_cmd && !req->history && req->command != proto::Msg::kCmdStatus)
    return "--json goes with --checkpoint, --status or --history";
  if (req->quiet && !checkpoint_cmd) return "--quiet goes with --checkpoint";
  if (req->quiet && req->json) return "choose one of --quiet and --json";
  return "";
}

// No coordinator answers: do processes of the job still run without one?
// (The roster file a coordinator that died left behind; roster_file.h.)
std::string orphans_note(const Settings& settings) {
  std::string host = this_host_name(), names;
  size_t running = 0, unknown = 0;
  for (const RosterEntry& e : read_roster(settings.dir)) {
    Liveness l = liveness(e, host);
    if (l == Liveness::kGone) continue;
    (l == Liveness::kRunning ? running : unknown)++;
    if (running + unknown <= 3) names += (names.empty() ? "" : ", ") + e.label();
  }
  size_t total = running + unknown;
  if (total == 0) return "";
  std::string text = "; " + std::to_string(total) + (total == 1 ? " process" : " processes") +
                     " of the job in " + settings.dir + " " + (total == 1 ? "runs" : "run") +
                     " without a coordinator: " + names + (total > 3 ? ", ..." : "");
  if (unknown) text += " (" + std::to_string(unknown) + " on other hosts, not checked)";
  return text + "; start one with ckpt_coordinator --daemon --port " +
         std::to_string(settings.port) + " --ckpt-dir " + settings.dir +
         " and they register with it again";
}

// Live progress only for a person watching a terminal.
bool show_progress(const Request& req) { return !req.quiet && !req.json && ::isatty(1); }

// The reply, after the CmdProgress frames before it (drawn on the terminal,
// redrawn every 200 ms so that the time runs). nullopt: the link failed.
std::optional<Frame> await_reply(CoordinatorLink& link, bool progress) {
  auto received = std::chrono::steady_clock::now();  // when `last` came
  std::optional<proto::CmdProgress> last;
  bool drawn = false;
  for (;;) {
    pollfd pfd{link.fd(), POLLIN, 0};
    if (progress && ::poll(&pfd, 1, 200) == 0) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - received)
                    .count();
      if (last) {
        uint64_t elapsed = last->elapsed_ms + static_cast<uint64_t>(ms);
        std::printf("\r\033[K%s", progress_line(*last, elapsed).c_str());
      }
      std::fflush(stdout);
      drawn = drawn || last;
      continue;
    }
    auto frame = link.recv();
    if (frame && frame->type == proto::Msg::kCmdProgress) {
      proto::CmdProgress p;
      if (decode_payload(*frame, &p)) {
        received = std::chrono::steady_clock::now();
        last = p;
        std::printf("\r\033[K%s", progress_line(p, p.elapsed_ms).c_str());
        std::fflush(stdout);
        drawn = true;
      }
      continue;
    }
    if (drawn) std::printf("\r\033[K");
    return frame;
  }
}

// Prints the reply to a checkpoint: summary line, JSON, or nothing (--quiet).
int report_checkpoint(const Request& req, const proto::CmdReply& reply) {
  if (req.json) {
    std::printf("%s\n", checkpoint_json(reply, req.settings.dir).c_str());
  } else if (!reply.ok) {
    std::fprintf(stderr, "%s\n", std::string(reply.text).c_str());
  } else if (!req.quiet) {
    std::printf("%s\n", checkpoint_summary(reply).c_str());
  }
  return reply.ok ? 0 : kExitFailed;
}

int print_history(const Request& req) {
  auto records = checkpoint_history(req.settings.dir);
  std::fputs(
      (req.json ? history_json(records, req.settings.dir) : history_text(records, req.settings.dir))
          .c_str(),
      stdout);
  return 0;
}

bool send_request(CoordinatorLink& link, const Request& req) {
  switch (req.command) {
    case proto::Msg::kCmdStatus:
      return link.send_message(req.command, proto::CmdStatus{req.json ? uint8_t{1} : uint8_t{0}});
    case proto::Msg::kCmdCheckpoint: {
      uint8_t flags = req.then_kill ? proto::kCheckpointThenKill : uint8_t{0};
      if (show_progress(req)) flags |= proto::kCheckpointProgress;
      return link.send_message(req.command, proto::CmdCheckpoint{flags});
    }
    case proto::Msg::kCmdInterval:
      return link.send_message(req.command, proto::CmdInterval{req.interval});
    default:
      return link.send(req.command);
  }
}

int run(int argc, char** argv) {
  if (!load_config_or_complain("ckpt_command")) return kExitNoCoordinator;
  Request req;
  req.settings = settings_from_env();
  std::string error = parse_args(argc, argv, &req);
  if (error == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!error.empty()) {
    std::fprintf(stderr, "ckpt_command: %s (see --help)\n", error.c_str());
    return kExitNoCoordinator;
  }
  if (req.history) return print_history(req);

  auto secret = load_secret(req.settings.dir, &error);
  if (!secret) {
    if (error.empty()) {
      error = "no job secret: CKPT_SECRET is unset and " + req.settings.dir + "/" +
              kSecretFileName + " does not exist (wrong --dir?)";
    }
    std::fprintf(stderr, "ckpt_command: %s\n", error.c_str());
    return kExitNoCoordinator;
  }

  CoordinatorLink link;
  if (LinkStatus st = link.open(req.settings, *secret, proto::Role::kCommand);
      st != LinkStatus::kOk) {
    std::string note = st == LinkStatus::kUnreachable ? orphans_note(req.settings) : "";
    std::fprintf(stderr, "ckpt_command: %s%s\n", link.error().c_str(), note.c_str());
    return kExitNoCoordinator;
  }
  bool sent = send_request(link, req);
  auto frame =
      sent ? await_reply(link, req.command == proto::Msg::kCmdCheckpoint && show_progress(req))
           : std::nullopt;
  proto::CmdReply reply;
  if (!frame || frame->type != proto::Msg::kCmdReply || !decode_payload(*frame, &reply)) {
    std::string why = frame ? "coordinator at " + link.where() + " sent " + msg_name(frame->type) +
                                  " instead of a reply"
                            : link.error();
    std::fprintf(stderr, "ckpt_command: %s\n", why.c_str());
    return req.command == proto::Msg::kCmdCheckpoint ? kExitFailed : kExitNoCoordinator;
  }
  if (req.command == proto::Msg::kCmdCheckpoint) return report_checkpoint(req, reply);
  std::string text(reply.text);
  if (!text.empty() && text.back() != '\n') text += '\n';
  std::fputs(text.c_str(), reply.ok ? stdout : stderr);
  return reply.ok ? 0 : kExitFailed;
}

}  // namespace
}  // namespace ckpt

int main(int argc, char** argv) {
  try {
    return ckpt::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ckpt_command: %s\n", e.what());
    return 2;
  }
}
