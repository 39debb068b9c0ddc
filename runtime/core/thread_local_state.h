// What the runtime keeps per application thread, in libckpt's static TLS so
// that it comes back with the thread's memory after a restart:
//   - its virtual tid (the tid it had when first seen; the main thread's is
//     the virtual pid), answered by gettid() whatever its real tid now is;
//   - how often a checkpoint interrupted it, so that wrappers of blocking
//     calls can tell a checkpoint's EINTR from the application's own;
//   - the deadline of the blocking call it is in, moved by the remaining
//     time when it comes back after a restart (the clock may differ).
#pragma once

#include <cstdint>

#include "runtime.h"

namespace ckpt {

struct ThreadLocalState {
  int32_t vtid = 0;
  uint32_t ckpt_interrupts = 0;
  int64_t deadline_ns = 0;  // CLOCK_MONOTONIC, 0 = none
  // Runtime-owned signals the application believes it blocked (bit s-1):
  // they stay unblocked, but masks read back show them blocked.
  uint64_t owned_blocked = 0;
  // The stop attempt (thread_suspend.cc) this thread last stopped for: a
  // second suspend signal of the same attempt, or one left pending from an
  // attempt that was undone, is ignored.
  uint32_t suspend_attempt = 0;
};

extern thread_local ThreadLocalState t_state __attribute__((tls_model("initial-exec")));

// The calling thread's virtual tid (assigned on first call).
int32_t current_vtid(Runtime& rt);
// Real tid of a virtual one (the process's threads only); `vtid` itself if
// it is not one of ours.
int32_t real_tid_of(Runtime& rt, int32_t vtid);
int64_t monotonic_ns();

}  // namespace ckpt
