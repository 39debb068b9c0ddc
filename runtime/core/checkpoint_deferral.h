// Sections of application code during which no checkpoint may land (an MPI
// library inside MPI_Init or MPI_Finalize, with its connections half made).
//
// A process-wide count of threads inside such a section. A thread entering
// one while a checkpoint is in progress waits until that checkpoint ends; the
// checkpoint thread, on Suspend, waits (bounded) until the count is 0 before
// it stops any thread. Both sides use sequentially consistent operations on
// Runtime::checkpoint_active and Runtime::checkpoint_deferred, so that either
// the entering thread sees the checkpoint and backs off, or the checkpoint
// sees the entering thread and waits for it.
//
// Plugins outside libckpt.so (libckpt_mpi.so) reach this through the C
// function ckpt_defer_checkpoints(), found with dlsym(RTLD_DEFAULT).
#pragma once

#include "fixed_string.h"
#include "runtime.h"

namespace ckpt {

// Default bound of wait_deferred_sections (CKPT_DEFER_TIMEOUT, in seconds).
inline constexpr long kDeferTimeoutMs = 60000;

void enter_deferred_section(Runtime& rt);
void leave_deferred_section(Runtime& rt);

// On the checkpoint thread, once checkpoint_active is 1: waits until no
// thread is inside a deferred section, at most rt.defer_timeout_ms. On
// timeout, explains in err and returns false (the checkpoint fails).
bool wait_deferred_sections(Runtime& rt, MessageString& err);

}  // namespace ckpt

// Exported from libckpt.so: on != 0 enters a deferred section, 0 leaves it.
// Returns 0, or -1 when the process runs without checkpoints (then it does
// nothing). Sections do not nest per call: the caller pairs them.
extern "C" int ckpt_defer_checkpoints(int on);
