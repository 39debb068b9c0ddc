// Options about when and how a job is checkpointed, shared by ckpt_launch and
// ckpt_restart. They travel as environment variables, which the coordinator
// that ckpt_launch/ckpt_restart starts inherits (ensure_coordinator.h):
//
//   --interval S   CKPT_INTERVAL   periodic checkpoints every S s (0: off); a
//                                  coordinator that already runs is told too
//   --keep K       CKPT_KEEP       committed generations kept (default 2)
//   --requeue      CKPT_REQUEUE=1  after a preemption checkpoint, requeue the
//                                  batch job (coordinator/requeue.h)
#pragma once

#include <string>

#include "common/settings.h"

namespace ckpt {

// Consumes one of the options above at argv[*i] and exports it. Use in the
// option loop, like take_settings_option.
OptionStatus take_schedule_option(int argc, char* const argv[], int* i, std::string* error);

// Checks a CKPT_PREEMPT_SIGNALS list ("USR1,TERM", "SIGUSR2", "10"): the
// names the runtime knows (HUP INT QUIT USR1 USR2 TERM XCPU ALRM, with or
// without SIG) or numbers 1..63 other than SIGKILL and SIGSTOP. "" or an error.
std::string check_signal_list(const std::string& list);

// Usage lines for the options above.
extern const char kScheduleUsage[];

}  // namespace ckpt
