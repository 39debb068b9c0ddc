// System V IPC state the runtime keeps, in Runtime (so it is saved with the
// image): per kind (shared memory, semaphores, message queues) the ids a
// restart changed (the application keeps the ids of before: virtual ->
// real, like pids), and the semaphore sets and message queues the process
// used, which a checkpoint captures (sysv_capture.h). Lock-free.
#pragma once

#include <atomic>
#include <cstdint>

namespace ckpt {

class SysvIdTable {
 public:
  static constexpr int kMax = 512;
  // After a restart: the pairs the restart passed (RestoreArgs).
  void clear() { n_.store(0, std::memory_order_relaxed); }
  void add(int32_t virt, int32_t real);
  int32_t to_real(int32_t virt) const;  // unknown ids are unchanged
  int32_t to_virtual(int32_t real) const;

 private:
  std::atomic<int32_t> n_{0};
  int32_t virt_[kMax] = {};
  int32_t real_[kMax] = {};
};

// The (virtual) ids of the objects a process used: its wrappers add them,
// a checkpoint reads them. Concurrent adds may store an id twice. Past kMax
// ids the set is full(): a checkpoint then fails rather than miss objects.
class SysvIdSet {
 public:
  static constexpr int kMax = 256;
  void add(int32_t id);
  int size() const;
  bool full() const { return n_.load(std::memory_order_acquire) > kMax; }
  int32_t at(int i) const { return slots_[i].load(std::memory_order_acquire) - 1; }

 private:
  std::atomic<int32_t> n_{0};
  std::atomic<int32_t> slots_[kMax] = {};  // id + 1; 0: not yet written
};

}  // namespace ckpt
