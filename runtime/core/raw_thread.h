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
// Starts a thread on t.stack (mapped by the caller, reused from one thread to
// the next once the previous one is gone) with `tls` as its thread pointer:
// a TLS block of its own lets it call libc. The thread itself registers its
// tid as the runtime's (add_runtime_tid). Async-signal-safe.
bool raw_thread_start_with_tls(RawThread& t, void (*fn)(void*), void* arg, uint64_t tls);

// CPUs this process may run on (sched_getaffinity), at least 1.
int usable_cpus();

}  // namespace ckpt
