// Parsing the coordinator's options (see options.h).
#include "options.h"

#include <charconv>
#include <cstdlib>

#include "common/settings.h"

namespace ckpt {

const char kCoordinatorUsage[] =
    "usage: ckpt_coordinator [--port P] [--port-file F] [--listen ADDR] [--ckpt-dir D]\n"
    "                        [--keep K] [--interval S] [--requeue] [--timeout S]\n"
    "                        [--max-pending N] [--daemon] [--exit-on-last]\n"
    "  --port P        TCP port (0: any free port; env CKPT_COORD_PORT, default 7781)\n"
    "  --port-file F   write the bound port to F once listening\n"
    "  --listen ADDR   address to listen on (default 0.0.0.0)\n"
    "  --ckpt-dir D    checkpoint dir (also --dir; env CKPT_DIR, default: current dir)\n"
    "  --keep K        committed checkpoints to keep (env CKPT_KEEP, default 2)\n"
    "  --interval S    checkpoint every S seconds (env CKPT_INTERVAL; 0, the default: off)\n"
    "  --requeue       after a preemption checkpoint, ask the batch scheduler to requeue\n"
    "                  the job (env CKPT_REQUEUE=1)\n"
    "  --timeout S     limit in seconds for each checkpoint phase: a process that does not\n"
    "                  answer in time (a host that died) fails the checkpoint\n"
    "                  (env CKPT_TIMEOUT, default 600)\n"
    "  --max-pending N connections held before they authenticate; past that the\n"
    "                  oldest, once 1 s old, is dropped (env CKPT_MAX_PENDING, default 1024)\n"
    "  --daemon        run in the background; exits 0 once listening\n"
    "  --exit-on-last  exit when the last process disconnects\n"
    "The job secret comes from env CKPT_SECRET or <dir>/.ckpt_secret.\n";

namespace {

bool parse_number(const std::string& text, int min, int* out) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < min)
    return false;
  *out = v;
  return true;
}

// CKPT_KEEP, CKPT_INTERVAL, CKPT_REQUEUE, CKPT_TIMEOUT; the options parsed later override them.
bool take_env(CoordinatorOptions* out, std::string* err) {
  if (const char* v = std::getenv("CKPT_KEEP"); v && *v && !parse_number(v, 1, &out->keep)) {
    *err = std::string("CKPT_KEEP=") + v + ": not a positive number";
    return false;
  }
  if (const char* v = std::getenv("CKPT_INTERVAL");
      v && *v && !parse_number(v, 0, &out->interval_s)) {
    *err = std::string("CKPT_INTERVAL=") + v + ": not a number of seconds";
    return false;
  }
  if (const char* v = std::getenv("CKPT_REQUEUE"); v && *v) out->requeue = std::string(v) != "0";
  if (const char* v = std::getenv("CKPT_TIMEOUT");
      v && *v && !parse_number(v, 1, &out->timeout_s)) {
    *err = std::string("CKPT_TIMEOUT=") + v + ": not a positive number of seconds";
    return false;
  }
  if (const char* v = std::getenv("CKPT_MAX_PENDING");
      v && *v && !parse_number(v, 1, &out->max_pending)) {
    *err = std::string("CKPT_MAX_PENDING=") + v + ": not a positive number";
    return false;
  }
  return true;
}

// --keep, --timeout, --interval, --max-pending, --port-file, --listen at argv[*i].
OptionStatus take_own_value(int argc, char** argv, int* i, CoordinatorOptions* out,
                            std::string* error) {
  std::string value;
  struct Numeric {
    const char* name;
    int* target;
    int min;
  };
  for (const Numeric& n :
       {Numeric{"--keep", &out->keep, 1}, Numeric{"--timeout", &out->timeout_s, 1},
        Numeric{"--interval", &out->interval_s, 0},
        Numeric{"--max-pending", &out->max_pending, 1}}) {
    OptionStatus st = take_option_value(argc, argv, i, n.name, &value, error);
    if (st != OptionStatus::kTaken) {
      if (st == OptionStatus::kBad) return st;
      continue;
    }
    if (!parse_number(value, n.min, n.target)) {
      *error = std::string(n.name) + " " + value +
               (n.min > 0 ? ": not a positive number" : ": not a number of seconds");
      return OptionStatus::kBad;
    }
    return st;
  }
  OptionStatus st = take_option_value(argc, argv, i, "--port-file", &out->port_file, error);
  if (st != OptionStatus::kNotMine) return st;
  return take_option_value(argc, argv, i, "--listen", &out->listen, error);
}

}  // namespace

bool parse_coordinator_options(int argc, char** argv, CoordinatorOptions* out, std::string* err) {
  Settings settings = settings_from_env();
  if (!take_env(out, err)) return false;
  for (int i = 1; i < argc; i++) {
    OptionStatus st = take_settings_option(argc, argv, &i, &settings, err);
    if (st == OptionStatus::kNotMine) st = take_own_value(argc, argv, &i, out, err);
    if (st == OptionStatus::kBad) return false;
    if (st == OptionStatus::kTaken) continue;
    std::string arg = argv[i];
    if (arg == "--daemon") {
      out->daemon = true;
    } else if (arg == "--exit-on-last") {
      out->exit_on_last = true;
    } else if (arg == "--requeue") {
      out->requeue = true;
    } else if (arg == "--help" || arg == "-h") {
      out->help = true;
      return true;
    } else {
      *err = "unknown option " + arg;
      return false;
    }
  }
  out->port = settings.port;
  out->dir = settings.dir;
  return true;
}

}  // namespace ckpt
