// The runtime's checkpoint thread: serves the coordinator's requests
// (suspend, write, resume, kill) and, after a restart, is the first code of
// the restored process to run.
#pragma once

#include "runtime.h"

namespace ckpt {

// Start the thread (from the constructor). Returns once it is registered
// with the coordinator, or failed to.
void start_checkpoint_thread(Runtime& rt);
// The on-demand server's turn (on_demand_server.h): serves the coordinator
// until no checkpoint runs and nothing is left to read. When the coordinator
// is gone it does not return: the calling thread registers again and serves
// from then on, as the pthread does.
void serve_until_idle(Runtime& rt);
// Waits (at most timeout_ms) until no checkpoint is in progress.
void wait_checkpoint_idle(Runtime& rt, long timeout_ms);

// The process exits on its own: once no checkpoint runs (at most 60 s),
// tells the coordinator, so that its disconnect is not taken for a process
// killed or a host lost while a checkpoint stops the job.
void announce_exit(Runtime& rt);

}  // namespace ckpt
