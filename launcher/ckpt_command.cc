// ckpt_command: ask the job's coordinator to checkpoint (and then end the
// computation), report status, kill the computation, quit, or change the
// periodic checkpoint interval. One request, one reply; exit 0 on success, 1
// if the coordinator says the request failed, 2 if we could not ask it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "common/job_secret.h"
#include "common/roster_file.h"
#include "common/settings.h"
#include "launcher/common/coordinator_link.h"

namespace ckpt {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitNoCoordinator = 2;

const char kUsage[] =
    "usage: ckpt_command [--host H] [--port P] [--dir D]\n"
    "                    (--checkpoint [--kill] | --status [--json] | --kill | --quit |\n"
    "                     --interval S)\n"
    "  --checkpoint  checkpoint every process of the job; exit 0 once committed\n"
    "  --checkpoint --kill  checkpoint, then kill every process once it committed;\n"
    "                exit 0 only if it committed (if not, nothing is killed)\n"
    "  --status      print the coordinator's state, a table of its processes and of\n"
    "                the processes outside the computation (--json: as JSON)\n"
    "  --kill        kill every process of the job\n"
    "  --quit        kill every process, then stop the coordinator\n"
    "  --interval S  checkpoint every S seconds from now on (0: stop periodic checkpoints)\n"
    "  --host/--port/--dir  coordinator and checkpoint dir (env CKPT_COORD_HOST,\n"
    "                CKPT_COORD_PORT, CKPT_DIR)\n";

struct Request {
  Settings settings;
  proto::Msg command{};
  bool json = false;
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
    return "choose one of --checkpoint [--kill], --status, --kill, --quit, --interval S";
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
    } else if (arg == "--json") {
      req->json = true;
      continue;
    } else if (arg == "--help" || arg == "-h") {
      return "help";
    } else {
      return "unknown option " + arg;
    }
    chosen++;
  }
  if (std::string error = combine(req, checkpoint, kill, chosen); !error.empty()) return error;
  if (req->json && req->command != proto::Msg::kCmdStatus) return "--json goes with --status";
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

bool send_request(CoordinatorLink& link, const Request& req) {
  switch (req.command) {
    case proto::Msg::kCmdStatus:
      return link.send_message(req.command, proto::CmdStatus{req.json ? uint8_t{1} : uint8_t{0}});
    case proto::Msg::kCmdCheckpoint:
      return link.send_message(
          req.command,
          proto::CmdCheckpoint{req.then_kill ? proto::kCheckpointThenKill : uint8_t{0}});
    case proto::Msg::kCmdInterval:
      return link.send_message(req.command, proto::CmdInterval{req.interval});
    default:
      return link.send(req.command);
  }
}

int run(int argc, char** argv) {
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
  auto frame = sent ? link.recv() : std::nullopt;
  proto::CmdReply reply;
  if (!frame || frame->type != proto::Msg::kCmdReply || !decode_payload(*frame, &reply)) {
    std::string why = frame ? "coordinator at " + link.where() + " sent " + msg_name(frame->type) +
                                  " instead of a reply"
                            : link.error();
    std::fprintf(stderr, "ckpt_command: %s\n", why.c_str());
    return req.command == proto::Msg::kCmdCheckpoint ? kExitFailed : kExitNoCoordinator;
  }
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
