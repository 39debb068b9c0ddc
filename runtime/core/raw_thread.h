// Runtime worker threads made with a bare clone(2): invisible to glibc (not
// in its thread list, no TLS of their own), so they can be started while the
// application's threads are stopped. Their code must not touch TLS: no errno,
// no libc calls beyond memcpy-like ones; use ckpt::sys.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ckpt {

struct RawThread {
  std::atomic<int32_t> tid{0};  // cleared by the kernel when the thread exits
  int32_t id = 0;               // the tid, kept after exit
  void* stack = nullptr;
  size_t stack_size = 0;
};

bool raw_thread_start(RawThread& t, void (*fn)(void*), void* arg, size_t stack_size = 256 * 1024);
void raw_thread_join(RawThread& t);

// CPUs this process may run on (sched_getaffinity), at least 1.
int usable_cpus();

}  // namespace ckpt
