// Virtual pid -> real pid pairs of the computation's processes whose real
// pid differs from their virtual one (after a restart that could not keep
// it). Fixed size, in libckpt's data; lock-free reads.
#pragma once

#include <atomic>
#include <cstdint>

namespace ckpt {

struct PidTable {
  static constexpr int kCapacity = 4096;
  std::atomic<int32_t> count{0};
  int32_t vpid[kCapacity] = {};
  int32_t real[kCapacity] = {};

  bool empty() const { return count.load(std::memory_order_relaxed) == 0; }
  void clear() { count.store(0); }
  bool add(int32_t v, int32_t r) {
    int n = count.load();
    if (n >= kCapacity) return false;
    vpid[n] = v;
    real[n] = r;
    count.store(n + 1);
    return true;
  }
  int32_t to_real(int32_t v) const {
    int n = count.load(std::memory_order_acquire);
    for (int i = 0; i < n; i++)
      if (vpid[i] == v) return real[i];
    return v;
  }
  int32_t to_virtual(int32_t r) const {
    int n = count.load(std::memory_order_acquire);
    for (int i = 0; i < n; i++)
      if (real[i] == r) return vpid[i];
    return r;
  }
};

}  // namespace ckpt
