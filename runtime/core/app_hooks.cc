// The application's hooks (see app_hooks.h).
#include "app_hooks.h"

#include <atomic>

#include "api/ckpt.h"

namespace ckpt {
namespace {

struct Hook {
  int event = 0;
  AppHookFn fn = nullptr;
  void* arg = nullptr;
};

Hook g_hooks[CKPT_MAX_HOOKS];
std::atomic<int> g_count{0};               // slots claimed
std::atomic<int> g_ready[CKPT_MAX_HOOKS];  // slot i filled in
bool g_resume_due = false;                 // checkpoint thread only

void run(int event, bool reverse) {
  int n = g_count.load();
  if (n > CKPT_MAX_HOOKS) n = CKPT_MAX_HOOKS;
  for (int k = 0; k < n; k++) {
    int i = reverse ? n - 1 - k : k;
    if (g_ready[i].load() && g_hooks[i].event == event) g_hooks[i].fn(g_hooks[i].arg);
  }
}

}  // namespace

int add_app_hook(int event, AppHookFn fn, void* arg) {
  if (!fn || event < CKPT_HOOK_PRE_CHECKPOINT || event > CKPT_HOOK_RESTART) return CKPT_EINVAL;
  int i = g_count.fetch_add(1);
  if (i >= CKPT_MAX_HOOKS) return CKPT_EFULL;
  g_hooks[i] = Hook{event, fn, arg};
  g_ready[i].store(1);
  return 0;
}

void run_pre_checkpoint_hooks() {
  run(CKPT_HOOK_PRE_CHECKPOINT, false);
  g_resume_due = true;
}

void run_resume_hooks() {
  if (!g_resume_due) return;
  g_resume_due = false;
  run(CKPT_HOOK_RESUME, true);
}

void run_restart_hooks() {
  g_resume_due = false;
  run(CKPT_HOOK_RESTART, true);
}

}  // namespace ckpt
