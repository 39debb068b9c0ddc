// Timestamped log lines on stderr (see log.h).
#include "log.h"

#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace ckpt {

void log_line(const char* fmt, ...) {
  char stamp[32];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "%s ckpt_coordinator[%d]: %s\n", stamp, static_cast<int>(::getpid()), msg);
  std::fflush(stderr);
}

}  // namespace ckpt
