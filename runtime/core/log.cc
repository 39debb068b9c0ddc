// Async-signal-safe logger (see log.h).
#include "log.h"

#include "ckpt/sys.h"
#include "fixed_string.h"

namespace ckpt {
namespace {

LogLevel g_level = LogLevel::kWarn;
const char* g_host = "";

bool same(const char* a, const char* b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

// "[ckpt PID@HOST] "
void put_prefix(FixedString<1024>& line) {
  line.append("[ckpt ").append_int(sys::getpid()).append('@').append(g_host).append("] ");
}

}  // namespace

void set_log_level(LogLevel level) { g_level = level; }

void set_log_host(const char* host) { g_host = host ? host : ""; }

void set_log_level_from_env(const char* log, const char* verbose) {
  if (verbose && same(verbose, "1")) g_level = LogLevel::kInfo;
  if (!log || !*log) return;
  struct Name {
    const char* name;
    LogLevel level;
  };
  for (Name n : {Name{"debug", LogLevel::kDebug}, Name{"info", LogLevel::kInfo},
                 Name{"warn", LogLevel::kWarn}, Name{"error", LogLevel::kError}}) {
    if (same(log, n.name)) {
      g_level = n.level;
      return;
    }
  }
  g_level = LogLevel::kWarn;
  FixedString<256> msg;
  msg.append("CKPT_LOG=").append(log).append(" is not one of debug, info, warn, error; using warn");
  log_line(LogLevel::kWarn, msg.view());
}

bool log_enabled(LogLevel level) { return level >= g_level; }

void log_line(LogLevel level, std::string_view msg) {
  if (!log_enabled(level)) return;
  FixedString<1024> line;
  put_prefix(line);
  line.append(msg).append('\n');
  sys::write(2, line.c_str(), line.size());
}

void fatal(const char* file, int line, std::string_view what, long err) {
  FixedString<1024> msg;
  put_prefix(msg);
  msg.append("FATAL ").append(file).append(':');
  msg.append_int(line).append(": ").append(what);
  if (err) msg.append(" (errno ").append_int(err).append(')');
  msg.append('\n');
  sys::write(2, msg.c_str(), msg.size());
  sys::kill(sys::getpid(), 6);
  sys::exit_group(134);
}

}  // namespace ckpt
