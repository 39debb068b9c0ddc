// Futex wait/wake on std::atomic<int32_t>, raw syscalls only (usable while
// application threads are stopped and from raw worker threads).
#pragma once

#include <linux/futex.h>
#include <time.h>

#include <atomic>
#include <cstdint>

#include "ckpt/sys.h"

namespace ckpt {

// Wait while *word == expected, at most timeout_ms (-1: forever).
inline void futex_wait(std::atomic<int32_t>& word, int32_t expected, long timeout_ms = -1) {
  timespec ts{timeout_ms / 1000, (timeout_ms % 1000) * 1000000};
  sys::futex(&word, FUTEX_WAIT_PRIVATE, expected, timeout_ms < 0 ? nullptr : &ts);
}

inline void futex_wake_all(std::atomic<int32_t>& word) {
  sys::futex(&word, FUTEX_WAKE_PRIVATE, INT32_MAX);
}

// A tiny lock for runtime threads only (never shared with the application).
class SpinFutexLock {
 public:
  void lock() {
    int32_t c = 0;
    if (word_.compare_exchange_strong(c, 1)) return;
    if (c != 2) c = word_.exchange(2);
    while (c != 0) {
      futex_wait(word_, 2);
      c = word_.exchange(2);
    }
  }
  void unlock() {
    if (word_.fetch_sub(1) != 1) {
      word_.store(0);
      sys::futex(&word_, FUTEX_WAKE_PRIVATE, 1);
    }
  }
  // In a fork child only: a thread of the parent may have held the lock at
  // the fork, and it does not exist here to release it.
  void reset_in_child() { word_.store(0); }

 private:
  std::atomic<int32_t> word_{0};
};

}  // namespace ckpt
