// The scheduling options of ckpt_launch and ckpt_restart (see schedule_options.h).
#include "schedule_options.h"

#include <strings.h>

#include <charconv>
#include <csignal>
#include <cstdlib>

namespace ckpt {

const char kScheduleUsage[] =
    "  --interval S   checkpoint every S seconds (env CKPT_INTERVAL; 0: off, the default)\n"
    "  --keep K       keep the last K committed checkpoints (env CKPT_KEEP, default 2)\n"
    "  --requeue      after a preemption checkpoint, requeue the batch job (env CKPT_REQUEUE=1)\n";

namespace {

bool parse_uint(std::string_view text, unsigned min, unsigned* out) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < min)
    return false;
  *out = v;
  return true;
}

bool known_signal(std::string_view s) {
  if (s.size() > 3 && strncasecmp(s.data(), "SIG", 3) == 0) s.remove_prefix(3);
  unsigned n = 0;
  if (!s.empty() && s[0] >= '0' && s[0] <= '9')
    return parse_uint(s, 1, &n) && n < 64 && n != SIGKILL && n != SIGSTOP;
  for (std::string_view name : {"HUP", "INT", "QUIT", "USR1", "USR2", "TERM", "XCPU", "ALRM"})
    if (s.size() == name.size() && strncasecmp(s.data(), name.data(), s.size()) == 0) return true;
  return false;
}

}  // namespace

OptionStatus take_schedule_option(int argc, char* const argv[], int* i, std::string* error) {
  std::string_view arg = argv[*i];
  if (arg == "--requeue") {
    setenv("CKPT_REQUEUE", "1", 1);
    return OptionStatus::kTaken;
  }
  struct Numeric {
    const char* name;
    const char* env;
    unsigned min;
  };
  for (const Numeric& n :
       {Numeric{"--interval", "CKPT_INTERVAL", 0}, Numeric{"--keep", "CKPT_KEEP", 1}}) {
    std::string value;
    OptionStatus st = take_option_value(argc, argv, i, n.name, &value, error);
    if (st != OptionStatus::kTaken) {
      if (st == OptionStatus::kBad) return st;
      continue;
    }
    unsigned v = 0;
    if (!parse_uint(value, n.min, &v)) {
      *error = std::string(n.name) + " " + value +
               (n.min ? ": not a positive number" : ": not a number of seconds");
      return OptionStatus::kBad;
    }
    setenv(n.env, std::to_string(v).c_str(), 1);
    return st;
  }
  return OptionStatus::kNotMine;
}

std::string check_signal_list(const std::string& list) {
  if (list.empty()) return "--preempt-signals: empty signal list";
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t end = list.find(',', pos);
    if (end == std::string::npos) end = list.size();
    std::string name = list.substr(pos, end - pos);
    if (!known_signal(name))
      return "--preempt-signals: '" + name +
             "' is not a signal ckpt can take (HUP INT QUIT USR1 USR2 TERM XCPU ALRM or a number)";
    pos = end + 1;
  }
  return "";
}

}  // namespace ckpt
