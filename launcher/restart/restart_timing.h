// With CKPT_VERBOSE=1, ckpt_restart says on stderr when each of its phases
// ended, in ms since it started ("ckpt_restart: [pid] phase <name> at <ms>
// ms"): where a restart's time goes (bench/ reads these for a process tree).
#pragma once

namespace ckpt {

// Notes the start time; call first thing in main.
void restart_timing_start();
// Where the lines go from now on (default 2: once the descriptors of the
// image are restored, fd 2 is the restored process's).
void restart_timing_fd(int fd);
// One line for the phase that just ended (nothing unless CKPT_VERBOSE=1).
void restart_phase_done(const char* phase);

}  // namespace ckpt
