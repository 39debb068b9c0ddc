// The program's own name (comm) across restarts.
//
// After a restart the thread-group leader is the runtime's checkpoint thread
// (the restorer lands on it), so /proc/PID/comm, ps, top and pgrep would
// show the runtime's name instead of the program's. At each snapshot the
// name of the leader (the main thread, or after a restart the checkpoint
// thread carrying it) is noted in the runtime's memory, which the image
// keeps; after a restart the checkpoint thread takes that name. Every
// application thread saves and sets its own name itself (ThreadSlot::name).
// A process whose runtime runs still has a thread named kControlThreadName
// (children.h: how other processes of the computation recognise it): after
// a restart a small runtime thread with that name, which only sleeps, is
// started for that. Malloc-free.
#pragma once

#include <cstdint>

#include "runtime.h"

namespace ckpt {

// Snapshot phase, threads stopped: notes the leader's name.
void note_process_name(const Runtime& rt, int32_t stopped_threads);
// The name noted, or "" before any snapshot.
const char* process_name();
// After a restart, on the checkpoint thread (the leader): takes that name.
void take_process_name();
// After a restart, once registered with the coordinator: starts the thread
// named kControlThreadName, unless it runs already (`restart_count`: the
// process's, telling this process's thread from the one before a restart).
void start_control_marker(uint32_t restart_count);

}  // namespace ckpt
