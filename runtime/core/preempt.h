// Preemption signals (CKPT_PREEMPT_SIGNALS, e.g. "USR1,TERM"): the runtime
// takes them from the application, and the first one asks the coordinator
// to checkpoint the whole computation and then end it (docs/schedulers.md).
#pragma once

#include "runtime.h"

namespace ckpt {

// Parses CKPT_PREEMPT_SIGNALS and installs the handlers. False with a
// warning on a name it does not know.
bool install_preempt_signals(Runtime& rt, const char* spec);
// Re-installs the handlers' ownership after a restart (dispositions come
// back with the image; nothing to do today, kept for symmetry).
void send_preempt_request(Runtime& rt);

}  // namespace ckpt
