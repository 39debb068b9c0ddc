// Requeue: after a preemption checkpoint, ask the batch scheduler to put the
// job back in the queue (ckpt_launch --requeue, coordinator --requeue,
// CKPT_REQUEUE=1), so that it comes back and ckpt_launch --restart-if-exists
// continues from the checkpoint.
//
// The command comes from the coordinator's environment, which is the job's:
//   CKPT_REQUEUE_COMMAND set  -> /bin/sh -c "$CKPT_REQUEUE_COMMAND"
//   SLURM_JOB_ID              -> scontrol requeue $SLURM_JOB_ID
//   PBS_JOBID                 -> qrerun $PBS_JOBID
//   LSB_JOBID                 -> brequeue $LSB_JOBID
// Each of these also ends the running job (the scheduler signals and then
// kills what is left), which is why it runs after the checkpoint committed.
#pragma once

#include <string>
#include <vector>

namespace ckpt {

// The argv to run, or empty (with *why saying what is missing).
std::vector<std::string> requeue_command_from_env(std::string* why);

// Runs argv with stdin from /dev/null, waits up to `timeout_s` (then
// SIGKILLs it). "" on exit 0, else one line with the status and the tail of
// its output. Every line it prints is logged.
std::string run_requeue(const std::vector<std::string>& argv, int timeout_s);

}  // namespace ckpt
