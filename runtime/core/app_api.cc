// The application API's entry points (api/ckpt.h finds them with dlsym):
// exported C functions named ckpt_rt_*, a C ABI versioned by
// CKPT_API_VERSION. Without a coordinator secret (not under ckpt_launch) the
// runtime is not ready and each answers as if ckpt were absent.
#include "api/ckpt.h"
#include "app_critical.h"
#include "app_hooks.h"
#include "app_requests.h"
#include "ckpt/sys.h"
#include "runtime.h"

namespace ckpt {
namespace {

bool on_checkpoint_thread(const Runtime& rt) { return sys::gettid() == rt.ckpt_tid; }

}  // namespace
}  // namespace ckpt

#define CKPT_EXPORT extern "C" __attribute__((visibility("default")))

CKPT_EXPORT int ckpt_rt_api_version() { return CKPT_API_VERSION; }

CKPT_EXPORT int ckpt_rt_is_running() { return ckpt::runtime().ready ? 1 : 0; }

CKPT_EXPORT int ckpt_rt_restart_count() {
  ckpt::Runtime& rt = ckpt::runtime();
  return rt.ready ? static_cast<int>(__atomic_load_n(&rt.restart_count, __ATOMIC_SEQ_CST)) : 0;
}

CKPT_EXPORT int ckpt_rt_checkpoint() {
  ckpt::Runtime& rt = ckpt::runtime();
  if (!rt.ready) return CKPT_ENOTRUNNING;
  // The checkpoint would wait for this thread's own section, or for the
  // checkpoint thread that is running this hook.
  if (ckpt::in_critical_section() || ckpt::on_checkpoint_thread(rt)) return CKPT_EDEADLOCK;
  switch (ckpt::request_checkpoint_and_wait(rt)) {
    case ckpt::AppRequestResult::kResumed:
      return CKPT_RESUMED;
    case ckpt::AppRequestResult::kRestarted:
      return CKPT_RESTARTED;
    default:
      return CKPT_EFAILED;
  }
}

CKPT_EXPORT int ckpt_rt_add_hook(int event, void (*fn)(void*), void* arg) {
  if (!ckpt::runtime().ready) return CKPT_ENOTRUNNING;
  return ckpt::add_app_hook(event, fn, arg);
}

CKPT_EXPORT int ckpt_rt_critical_begin() {
  ckpt::Runtime& rt = ckpt::runtime();
  if (!rt.ready) return CKPT_ENOTRUNNING;
  if (ckpt::on_checkpoint_thread(rt)) return CKPT_EDEADLOCK;
  ckpt::begin_critical_section(rt);
  return 0;
}

CKPT_EXPORT int ckpt_rt_critical_end() {
  ckpt::Runtime& rt = ckpt::runtime();
  if (!rt.ready) return CKPT_ENOTRUNNING;
  return ckpt::end_critical_section(rt) ? 0 : CKPT_EINVAL;
}

CKPT_EXPORT const char* ckpt_rt_error() { return ckpt::app_request_error(); }
