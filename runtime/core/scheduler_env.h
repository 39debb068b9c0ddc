// After a restart, the batch scheduler's variables (SLURM_*, PBS_*, LSB_*)
// of the application's environment are replaced by those of the allocation
// it now runs in, which ckpt_restart passes in RestoreArgs.
#pragma once

#include "ckpt/restore_args.h"

namespace ckpt {

// Keeps a copy of the new variables (the hole is about to be unmapped).
void keep_scheduler_env(const RestoreArgs& args);
// Applies them: call once the application's threads run again (setenv
// allocates, and a thread stopped inside malloc would deadlock us).
void refresh_scheduler_env();

}  // namespace ckpt
