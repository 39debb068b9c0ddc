// A task of a SLURM step over several nodes (`srun ckpt_launch PROG`, one
// task per node) joins the job's one coordinator, on the step's first node
// (slurm_allocation.h): the task there starts it as usual; the tasks on the
// other nodes point CKPT_COORD_HOST at that node's address and wait until
// it answers.
#pragma once

#include <string>

#include "common/settings.h"

namespace ckpt {

// "" when nothing was to be done or the coordinator answers (settings->host
// then names it); else a one-line error. Waits at most CKPT_STEP_WAIT s (60).
std::string join_step_coordinator(Settings* settings);

}  // namespace ckpt
