// Parsing the coordinator's options (see options.h).
#include "options.h"

#include <charconv>

#include "settings.h"

namespace ckpt {

const char kCoordinatorUsage[] =
    "usage: ckpt_coordinator [--port P] [--port-file F] [--listen ADDR] [--ckpt-dir D]\n"
    "                        [--keep K] [--timeout S] [--daemon] [--exit-on-last]\n"
    "  --port P        TCP port (0: any free port; env CKPT_COORD_PORT, default 7781)\n"
    "  --port-file F   write the bound port to F once listening\n"
    "  --listen ADDR   address to listen on (default 0.0.0.0)\n"
    "  --ckpt-dir D    checkpoint dir (also --dir; env CKPT_DIR, default: current dir)\n"
    "  --keep K        committed checkpoints to keep (default 2)\n"
    "  --timeout S     limit in seconds for each checkpoint phase (default 600)\n"
    "  --daemon        run in the background; exits 0 once listening\n"
    "  --exit-on-last  exit when the last process disconnects\n"
    "The job secret comes from env CKPT_SECRET or <dir>/.ckpt_secret.\n";

namespace {

bool parse_positive(const std::string& text, int* out) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < 1) return false;
  *out = v;
  return true;
}

// --keep, --timeout, --port-file, --listen at argv[*i].
OptionStatus take_own_value(int argc, char** argv, int* i, CoordinatorOptions* out,
                            std::string* error) {
  std::string value;
  for (const char* name : {"--keep", "--timeout"}) {
    OptionStatus st = take_option_value(argc, argv, i, name, &value, error);
    if (st != OptionStatus::kTaken) {
      if (st == OptionStatus::kBad) return st;
      continue;
    }
    int* target = std::string(name) == "--keep" ? &out->keep : &out->timeout_s;
    if (!parse_positive(value, target)) {
      *error = std::string(name) + " " + value + ": not a positive number";
      return OptionStatus::kBad;
    }
    return st;
  }
  OptionStatus st = take_option_value(argc, argv, i, "--port-file", &out->port_file, error);
  if (st != OptionStatus::kNotMine) return st;
  return take_option_value(argc, argv, i, "--listen", &out->listen, error);
}

}  // namespace

std::string parse_coordinator_options(int argc, char** argv, CoordinatorOptions* out) {
  Settings settings = settings_from_env();
  for (int i = 1; i < argc; i++) {
    std::string error;
    OptionStatus st = take_settings_option(argc, argv, &i, &settings, &error);
    if (st == OptionStatus::kNotMine) st = take_own_value(argc, argv, &i, out, &error);
    if (st == OptionStatus::kBad) return error;
    if (st == OptionStatus::kTaken) continue;
    std::string arg = argv[i];
    if (arg == "--daemon") {
      out->daemon = true;
    } else if (arg == "--exit-on-last") {
      out->exit_on_last = true;
    } else if (arg == "--help" || arg == "-h") {
      return "help";
    } else {
      return "unknown option " + arg;
    }
  }
  out->port = settings.port;
  out->dir = settings.dir;
  return "";
}

}  // namespace ckpt
