// Capture of process-wide kernel state into image sections: identity,
// cwd, rlimits, mm layout (Process), threads (Threads), their CPU bindings
// (CpuAffinity) and signal dispositions (Signals).
#pragma once

#include "ckpt/byte_codec.h"
#include "fixed_string.h"
#include "runtime.h"

namespace ckpt {

bool capture_process(const Runtime& rt, ByteWriter& out, MessageString& err);
void capture_threads(const Runtime& rt, int32_t stopped_threads, ByteWriter& out);
// Each stopped application thread's sched_getaffinity mask (malloc-free).
void capture_affinity(const Runtime& rt, int32_t stopped_threads, ByteWriter& out);
void capture_signals(ByteWriter& out);
// Saved at startup: /proc/self/cmdline becomes unreadable after a restart.
void remember_cmdline();

}  // namespace ckpt
