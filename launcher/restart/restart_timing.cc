// Phase times of ckpt_restart (see restart_timing.h).
#include "restart_timing.h"

#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace ckpt {
namespace {

double g_start_ms = 0;
bool g_on = false;
int g_fd = 2;

double now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

}  // namespace

void restart_timing_start() {
  g_start_ms = now_ms();
  const char* v = getenv("CKPT_VERBOSE");
  g_on = v && *v == '1';
}

void restart_timing_fd(int fd) { g_fd = fd; }

void restart_phase_done(const char* phase) {
  if (!g_on) return;
  char line[160];
  int n = std::snprintf(line, sizeof(line), "ckpt_restart: [%d] phase %s at %.1f ms\n",
                        static_cast<int>(getpid()), phase, now_ms() - g_start_ms);
  if (n > 0) (void)!::write(g_fd, line, static_cast<size_t>(n));
}

}  // namespace ckpt
