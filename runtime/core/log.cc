// Async-signal-safe logger (see log.h).
#include "log.h"

#include "ckpt/sys.h"
#include "fixed_string.h"

namespace ckpt {
namespace {

LogLevel g_level = LogLevel::kWarn;

}  // namespace

void set_log_level(LogLevel level) { g_level = level; }

bool log_enabled(LogLevel level) { return level >= g_level; }

void log_line(LogLevel level, std::string_view msg) {
  if (!log_enabled(level)) return;
  FixedString<1024> line;
  line.append("ckpt[").append_int(sys::getpid()).append("]: ").append(msg).append('\n');
  sys::write(2, line.c_str(), line.size());
}

void fatal(const char* file, int line, std::string_view what, long err) {
  FixedString<1024> msg;
  msg.append("ckpt[").append_int(sys::getpid()).append("]: FATAL ").append(file).append(':');
  msg.append_int(line).append(": ").append(what);
  if (err) msg.append(" (errno ").append_int(err).append(')');
  msg.append('\n');
  sys::write(2, msg.c_str(), msg.size());
  sys::kill(sys::getpid(), 6);
  sys::exit_group(134);
}

}  // namespace ckpt
