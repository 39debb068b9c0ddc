// System V IPC state (see sysv_ipc.h).
#include "sysv_ipc.h"

namespace ckpt {

void SysvIdTable::add(int32_t virt, int32_t real) {
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

int32_t SysvIdTable::to_real(int32_t virt) const {
  int32_t n = n_.load(std::memory_order_acquire);
  for (int32_t i = 0; i < n; i++)
    if (virt_[i] == virt) return real_[i];
  return virt;
}

int32_t SysvIdTable::to_virtual(int32_t real) const {
  int32_t n = n_.load(std::memory_order_acquire);
  for (int32_t i = 0; i < n; i++)
    if (real_[i] == real) return virt_[i];
  return real;
}

void SysvIdSet::add(int32_t id) {
  int n = size();
  for (int i = 0; i < n; i++)
    if (at(i) == id) return;
  int slot = n_.fetch_add(1, std::memory_order_relaxed);
  if (slot >= kMax) {
    n_.store(kMax + 1, std::memory_order_relaxed);  // full(): an id was left out
    return;
  }
  slots_[slot].store(id + 1, std::memory_order_release);
}

int SysvIdSet::size() const {
  int n = n_.load(std::memory_order_acquire);
  return n < kMax ? n : kMax;
}

}  // namespace ckpt
