// The application's critical sections (ckpt_critical_begin/end of
// api/ckpt.h): the deferred sections of checkpoint_deferral.h, with a
// per-thread nesting depth so that only a thread's outermost section counts
// in Runtime::checkpoint_deferred.
#pragma once

#include "runtime.h"

namespace ckpt {

void begin_critical_section(Runtime& rt);
// False when the calling thread is inside no section.
bool end_critical_section(Runtime& rt);
bool in_critical_section();
// In a forked child, whose only thread is the one that forked: inside its
// sections still (the parent's count is not the child's).
void keep_critical_section_in_child(Runtime& rt);

}  // namespace ckpt
