// Chooses, before each checkpoint, how this process's image is written (see
// write_mode_policy.h): reads CKPT_WRITE_MODE and CKPT_COPY_MAX_MIB, and for
// a process with enough private memory samples how fast it touches it
// (clear the pages' referenced bits, wait kTouchSampleMs, count them again in
// /proc/self/smaps_rollup) at its first checkpoint and every
// kResampleEvery-th one after (not for the last checkpoint, which forks in
// auto mode). Runs on the checkpoint thread while the application still
// runs; malloc-free.
#pragma once

#include "write_mode_policy.h"

namespace ckpt {

inline constexpr int kTouchSampleMs = 20;
inline constexpr int kResampleEvery = 8;

struct WriteModeChoice {
  WriteMode mode = WriteMode::kFork;
  WriteModeInput input;
  bool prepare_after = false;  // copy_wins_once_ready: make the buffer after the resume
};

// `last`: proto::Suspend::last.
WriteModeChoice choose_write_mode_now(bool last);

}  // namespace ckpt
