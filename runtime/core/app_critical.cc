// Critical sections of the application (see app_critical.h).
#include "app_critical.h"

#include "checkpoint_deferral.h"

namespace ckpt {
namespace {

thread_local int32_t t_depth __attribute__((tls_model("initial-exec"))) = 0;

}  // namespace

void begin_critical_section(Runtime& rt) {
  if (t_depth++ == 0) enter_deferred_section(rt);
}

bool end_critical_section(Runtime& rt) {
  if (t_depth <= 0) return false;
  if (--t_depth == 0) leave_deferred_section(rt);
  return true;
}

bool in_critical_section() { return t_depth > 0; }

void keep_critical_section_in_child(Runtime& rt) {
  if (t_depth > 0) rt.checkpoint_deferred.fetch_add(1);
}

}  // namespace ckpt
