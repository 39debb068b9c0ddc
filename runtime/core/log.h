// Async-signal-safe logging and invariant checks for the runtime.
//
// Messages go to stderr with one raw write(2) each, prefixed
// "[ckpt PID@HOST] " (the real pid, the host it runs on now). The level
// comes from CKPT_LOG=debug|info|warn|error (default warn; CKPT_VERBOSE=1
// is CKPT_LOG=info).
// CKPT_CHECK stays on in release builds: a broken invariant in a checkpoint
// runtime is better stopped than carried into an image.
#pragma once

#include <string_view>

namespace ckpt {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Set once from CKPT_LOG / CKPT_VERBOSE at startup (set_log_level_from_env).
void set_log_level(LogLevel level);
// Reads CKPT_LOG (else CKPT_VERBOSE); an unknown CKPT_LOG is said once, at warn.
void set_log_level_from_env(const char* log, const char* verbose);
// The host name of the prefix: a buffer the runtime keeps current (it
// changes after a restart on another host).
void set_log_host(const char* host);
bool log_enabled(LogLevel level);
void log_line(LogLevel level, std::string_view msg);
[[noreturn]] void fatal(const char* file, int line, std::string_view what, long err);

}  // namespace ckpt

#define CKPT_CHECK(cond)                                      \
  do {                                                        \
    if (!(cond)) ::ckpt::fatal(__FILE__, __LINE__, #cond, 0); \
  } while (0)
#define CKPT_CHECK_SYS(ret)                                                                \
  do {                                                                                     \
    long ckpt_r_ = (ret);                                                                  \
    if (ckpt_r_ < 0 && ckpt_r_ > -4096) ::ckpt::fatal(__FILE__, __LINE__, #ret, -ckpt_r_); \
  } while (0)
