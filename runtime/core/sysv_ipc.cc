// System V IPC state (see sysv_ipc.h).
#include "sysv_ipc.h"

namespace ckpt {

void ShmIdTable::add(int32_t virt, int32_t real) {
  int32_t n = n_.load(std::memory_order_relaxed);
  for (int32_t i = 0; i < n; i++) {
    if (virt_[i] == virt) {
      real_[i] = real;
      return;
    }
  }
  if (n == kMax) return;
  virt_[n] = virt;
  real_[n] = real;
  n_.store(n + 1, std::memory_order_release);
}

int32_t ShmIdTable::to_real(int32_t virt) const {
  int32_t n = n_.load(std::memory_order_acquire);
  for (int32_t i = 0; i < n; i++)
    if (virt_[i] == virt) return real_[i];
  return virt;
}

int32_t ShmIdTable::to_virtual(int32_t real) const {
  int32_t n = n_.load(std::memory_order_acquire);
  for (int32_t i = 0; i < n; i++)
    if (real_[i] == real) return virt_[i];
  return real;
}

const char* sysv_unsupported(uint32_t uses) {
  if (uses & kUsesSemaphores)
    return "the process uses System V semaphores (semget), which ckpt cannot checkpoint yet";
  if (uses & kUsesMessageQueues)
    return "the process uses System V message queues (msgget), which ckpt cannot checkpoint yet";
  return nullptr;
}

}  // namespace ckpt
