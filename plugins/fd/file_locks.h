// File locks held through regular files' descriptors (POSIX record locks,
// flock, open file description locks). The checkpoint reads them from
// /proc/self/fdinfo into the runtime's own memory (FdCapture::locks), which
// the image carries; after a restart the process takes them again, once
// every fd and mapping is back (closing any fd of a file drops a process's
// POSIX locks on it, and the restart opens and closes files on the way).
// Leases and delegations are not kept. Malloc-free, raw syscalls.
#pragma once

#include <cstdint>
#include <string_view>

#include "runtime/core/fixed_string.h"

namespace ckpt {

enum class LockKind : uint8_t { kPosix = 1, kFlock = 2, kOfd = 3 };
inline constexpr uint64_t kLockToEof = ~uint64_t{0};

struct HeldLock {
  int32_t fd;
  LockKind kind;
  bool write;
  uint64_t start, end;  // inclusive; end kLockToEof: to the end of the file
};

// Appends to `out` (up to `max` entries, from *n on) the held locks of the
// "lock:" lines of `fd`'s fdinfo text (not the waiters "->"). Returns false
// when they do not fit.
bool parse_file_locks(int fd, std::string_view fdinfo, HeldLock* out, int max, int* n);
// Takes every lock again without waiting; false with a message naming the
// first that cannot be taken (held meanwhile by a program outside).
bool retake_file_locks(const HeldLock* locks, int n, MessageString& err);

}  // namespace ckpt
