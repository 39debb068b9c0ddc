// PidTable: two lock-free open-addressing hash tables (see pid_table.h).
#include "pid_table.h"

namespace ckpt {
namespace {

constexpr uint32_t kTombstone = 0xffffffffu;  // a key no pid has: a removed pair

constexpr uint64_t pack(uint32_t key, int32_t value) {
  return static_cast<uint64_t>(key) << 32 | static_cast<uint32_t>(value);
}
constexpr uint32_t key_of(uint64_t slot) { return static_cast<uint32_t>(slot >> 32); }
constexpr int32_t value_of(uint64_t slot) { return static_cast<int32_t>(slot & 0xffffffffu); }

// Fibonacci hashing: pids are dense, so spread them over the slots.
uint32_t home(int32_t key, int slots) {
  return (static_cast<uint32_t>(key) * 2654435769u) % static_cast<uint32_t>(slots);
}

}  // namespace

int32_t PidTable::find(const Slots& slots, int32_t key) {
  for (uint32_t i = home(key, kSlots), n = 0; n < kSlots; i = (i + 1) % kSlots, n++) {
    uint64_t s = slots[i].load(std::memory_order_acquire);
    if (s == 0) return 0;
    if (key_of(s) == static_cast<uint32_t>(key)) return value_of(s);
  }
  return 0;
}

// Replaces the key's pair, or takes the first empty slot of its run; a
// value of 0 removes the pair (the slot becomes a tombstone, which lookups
// walk past).
void PidTable::put(Slots& slots, int32_t key, int32_t value) {
  for (uint32_t i = home(key, kSlots), n = 0; n < kSlots; i = (i + 1) % kSlots, n++) {
    uint64_t s = slots[i].load(std::memory_order_acquire);
    if (s != 0 && key_of(s) != static_cast<uint32_t>(key)) continue;
    uint64_t next = value ? pack(static_cast<uint32_t>(key), value) : pack(kTombstone, 0);
    if (s == 0 && !value) return;  // nothing to remove
    if (s == 0 && !slots[i].compare_exchange_strong(s, next, std::memory_order_release)) {
      if (key_of(s) != static_cast<uint32_t>(key)) continue;  // another writer took it
    }
    slots[i].store(next, std::memory_order_release);
    return;
  }
}

void PidTable::clear() {
  translating_.store(false, std::memory_order_relaxed);
  self_virtual_.store(0, std::memory_order_relaxed);
  self_real_.store(0, std::memory_order_relaxed);
  used_.store(0, std::memory_order_relaxed);
  for (auto& s : by_virtual_) s.store(0, std::memory_order_relaxed);
  for (auto& s : by_real_) s.store(0, std::memory_order_release);
}

bool PidTable::add(int32_t vpid, int32_t real) {
  if (vpid <= 0 || real <= 0) return false;
  int32_t old_real = find(by_virtual_, vpid), old_virtual = find(by_real_, real);
  bool fresh = old_real == 0 && old_virtual == 0;
  if (fresh && vpid == real) return true;  // nothing to translate
  if (fresh && used_.load(std::memory_order_relaxed) >= kMaxPidMappings) return false;
  // A pid pairs with one other at most: drop the pairs this one replaces.
  if (old_real && old_real != real) put(by_real_, old_real, 0);
  if (old_virtual && old_virtual != vpid) put(by_virtual_, old_virtual, 0);
  if (vpid == real) {
    put(by_virtual_, vpid, 0);
    put(by_real_, real, 0);
  } else {
    if (fresh) used_.fetch_add(1, std::memory_order_relaxed);
    put(by_virtual_, vpid, real);
    put(by_real_, real, vpid);
  }
  update_translating();
  return true;
}

void PidTable::set_self(int32_t vpid, int32_t real) {
  self_virtual_.store(vpid, std::memory_order_relaxed);
  self_real_.store(real, std::memory_order_release);
  update_translating();
}

void PidTable::update_translating() {
  bool self_differs = self_virtual_.load() != self_real_.load();
  translating_.store(self_differs || used_.load() > 0, std::memory_order_release);
}

int32_t PidTable::to_real(int32_t vpid) const {
  if (vpid <= 0) return vpid;
  if (vpid == self_virtual_.load(std::memory_order_acquire))
    return self_real_.load(std::memory_order_relaxed);
  int32_t real = find(by_virtual_, vpid);
  return real ? real : vpid;
}

int32_t PidTable::to_virtual(int32_t real) const {
  if (real <= 0) return real;
  if (real == self_real_.load(std::memory_order_acquire) && self_real_.load() != 0)
    return self_virtual_.load(std::memory_order_relaxed);
  int32_t vpid = find(by_real_, real);
  return vpid ? vpid : real;
}

}  // namespace ckpt
