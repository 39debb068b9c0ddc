// System V IPC state the runtime keeps: the shmids a restart changed (the
// application keeps the ids of before: virtual -> real, like pids), and
// whether the process uses semaphores or message queues, which ckpt cannot
// checkpoint yet (a checkpoint then fails with a message naming them).
// Lives in Runtime, so it is saved with the image. Lock-free reads.
#pragma once

#include <atomic>
#include <cstdint>

namespace ckpt {

class ShmIdTable {
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

enum SysvUse : uint32_t {
  kUsesSemaphores = 1,     // semget succeeded
  kUsesMessageQueues = 2,  // msgget succeeded
};

// The message a checkpoint fails with, or nullptr when nothing unsupported
// is in use.
const char* sysv_unsupported(uint32_t uses);

}  // namespace ckpt
