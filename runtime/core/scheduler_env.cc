// Refreshing the scheduler's variables after a restart (see scheduler_env.h).
#include "scheduler_env.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <string>
#include <string_view>
#include <vector>

#include "ckpt/sys.h"

extern char** environ;

namespace ckpt {
namespace {

char* g_block = nullptr;
size_t g_size = 0;

bool is_scheduler_var(std::string_view v) {
  return v.starts_with("SLURM_") || v.starts_with("PBS_") || v.starts_with("LSB_");
}

}  // namespace

void keep_scheduler_env(const RestoreArgs& args) {
  g_block = nullptr;
  g_size = 0;
  if (!args.scheduler_env) return;
  size_t len = args.scheduler_env_size + 1;
  long p = sys::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p < 0) return;
  g_block = reinterpret_cast<char*>(p);
  g_size = args.scheduler_env_size;
  memcpy(g_block, reinterpret_cast<const void*>(args.scheduler_env), g_size);
}

void refresh_scheduler_env() {
  if (!g_block) return;
  std::vector<std::string> stale;
  for (char** e = environ; e && *e; e++) {
    std::string_view v(*e);
    if (is_scheduler_var(v)) stale.emplace_back(v.substr(0, v.find('=')));
  }
  for (const std::string& name : stale) unsetenv(name.c_str());
  for (size_t at = 0; at < g_size;) {
    std::string_view v(g_block + at);
    at += v.size() + 1;
    size_t eq = v.find('=');
    if (eq == std::string_view::npos) continue;
    setenv(std::string(v.substr(0, eq)).c_str(), std::string(v.substr(eq + 1)).c_str(), 1);
  }
  sys::munmap(g_block, g_size + 1);
  g_block = nullptr;
}

}  // namespace ckpt
