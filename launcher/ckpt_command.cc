// ckpt_command: ask the job's coordinator to checkpoint, report status, kill
// the computation or quit. One request, one reply; exit 0 on success, 1 if
// the coordinator says the request failed, 2 if we could not ask it.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "coordinator_link.h"
#include "job_secret.h"
#include "settings.h"

namespace ckpt {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitNoCoordinator = 2;

const char kUsage[] =
    "usage: ckpt_command [--host H] [--port P] [--dir D]\n"
    "                    (--checkpoint | --status [--json] | --kill | --quit)\n"
    "  --checkpoint  checkpoint every process of the job; exit 0 once committed\n"
    "  --status      print the coordinator's state and its processes (--json: as JSON)\n"
    "  --kill        kill every process of the job\n"
    "  --quit        kill every process, then stop the coordinator\n"
    "  --host/--port/--dir  coordinator and checkpoint dir (env CKPT_COORD_HOST,\n"
    "                CKPT_COORD_PORT, CKPT_DIR)\n";

struct Request {
  Settings settings;
  proto::Msg command{};
  bool json = false;
};

// Parses argv; returns an error line ("" if fine, "help" for --help).
std::string parse_args(int argc, char** argv, Request* req) {
  int chosen = 0;
  for (int i = 1; i < argc; i++) {
    std::string error;
    OptionStatus st = take_settings_option(argc, argv, &i, &req->settings, &error);
    if (st == OptionStatus::kBad) return error;
    if (st == OptionStatus::kTaken) continue;
    std::string arg = argv[i];
    if (arg == "--checkpoint" || arg == "-c") {
      req->command = proto::Msg::kCmdCheckpoint;
    } else if (arg == "--status" || arg == "-s") {
      req->command = proto::Msg::kCmdStatus;
    } else if (arg == "--kill" || arg == "-k") {
      req->command = proto::Msg::kCmdKill;
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
  if (chosen != 1) return "choose exactly one of --checkpoint, --status, --kill, --quit";
  if (req->json && req->command != proto::Msg::kCmdStatus) return "--json goes with --status";
  return "";
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
  if (link.open(req.settings, *secret, proto::Role::kCommand) != LinkStatus::kOk) {
    std::fprintf(stderr, "ckpt_command: %s\n", link.error().c_str());
    return kExitNoCoordinator;
  }
  bool sent =
      req.command == proto::Msg::kCmdStatus
          ? link.send_message(req.command, proto::CmdStatus{req.json ? uint8_t{1} : uint8_t{0}})
          : link.send(req.command);
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
