// The runtime's checkpoint thread: serves the coordinator's requests
// (suspend, write, resume, kill) and, after a restart, is the first code of
// the restored process to run.
#pragma once

#include "runtime.h"

namespace ckpt {

// Start the thread (from the constructor). Returns once it is registered
// with the coordinator, or failed to.
void start_checkpoint_thread(Runtime& rt);
// Waits (at most timeout_ms) until no checkpoint is in progress.
void wait_checkpoint_idle(Runtime& rt, long timeout_ms);

}  // namespace ckpt
