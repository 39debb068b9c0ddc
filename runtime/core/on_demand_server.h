// The on-demand checkpoint thread (the default; with CKPT_ON_DEMAND=0, or
// when its set-up fails, the pthread of checkpoint_thread.cc lives as long
// as the process instead): no
// runtime thread between checkpoints, so that glibc stays in its
// single-thread mode and the kernel's file table stays unshared (see
// docs/performance.md, "Interposition"). The coordinator socket is O_ASYNC:
// its data raises a runtime-owned signal, hidden from the application like
// the suspend signal, whose handler starts a raw clone() thread on a stack
// and TLS block the runtime made at start-up. That thread serves the
// coordinator (serve_until_idle) and ends once no checkpoint runs and nothing
// is left to read. Runtime events (preemption, ckpt_checkpoint()) start it
// too. After a restart the restored checkpoint thread is the thread-group
// leader: it stays, as the pthread does.
#pragma once

#include "runtime.h"

namespace ckpt {

inline constexpr int kServeSignal = 63;  // SIGRTMAX - 1

// Unless CKPT_ON_DEMAND=0 (read once, at start-up).
bool on_demand_wanted();
// Registers with the coordinator on the calling thread and arms the socket.
// False (nothing changed) when that fails: the caller starts the pthread.
bool start_on_demand(Runtime& rt);
// In the restored checkpoint thread: the server of the process before is
// gone, and this thread stays.
void on_demand_after_restart();
// Starts the server unless it runs. Async-signal-safe.
void wake_on_demand_server();

}  // namespace ckpt
