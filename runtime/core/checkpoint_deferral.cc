// Deferred sections (see checkpoint_deferral.h).
#include "checkpoint_deferral.h"

#include "futex.h"

namespace ckpt {

void enter_deferred_section(Runtime& rt) {
  for (;;) {
    while (rt.checkpoint_active.load()) futex_wait(rt.checkpoint_active, 1, 50);
    rt.checkpoint_deferred.fetch_add(1);
    if (!rt.checkpoint_active.load()) return;
    // A checkpoint began meanwhile: let it go first.
    leave_deferred_section(rt);
  }
}

void leave_deferred_section(Runtime& rt) {
  if (rt.checkpoint_deferred.fetch_sub(1) == 1) futex_wake_all(rt.checkpoint_deferred);
}

bool wait_deferred_sections(Runtime& rt, MessageString& err) {
  long waited = 0;
  for (int32_t n; (n = rt.checkpoint_deferred.load()) > 0; waited += 50) {
    if (waited >= rt.defer_timeout_ms) {
      err.append(
             "a thread stayed inside a section where checkpoints wait (MPI_Init/MPI_Finalize, "
             "or ckpt_critical_begin of the application API) for ")
          .append_int(rt.defer_timeout_ms / 1000)
          .append(" s; the checkpoint was given up (CKPT_DEFER_TIMEOUT sets the wait)");
      return false;
    }
    futex_wait(rt.checkpoint_deferred, n, 50);
  }
  return true;
}

}  // namespace ckpt
