// The virtual pids of the computation and the real pids behind them.
//
// A restored process whose old pid was taken runs under another real pid,
// and every process of the computation keeps naming it by its old (virtual)
// pid. The restart fills this table, in every restored process, with the
// pairs of the processes on this host whose real pid differs from their
// virtual one; the wrappers translate through it. Usually it is empty, and
// empty() is what a wrapper tests first.
//
// Fixed capacity, no heap, plain data inside struct Runtime (saved with the
// image). Reads are lock-free and async-signal-safe (wrappers run in signal
// handlers): two open-addressing hash tables, one keyed by virtual pid, one
// by real pid, each slot one 64-bit atomic word (key << 32 | value), so a
// reader never sees half a pair. Writers (the restart, the checkpoint
// thread) may race with readers but not with clear().
#pragma once

#include <atomic>
#include <cstdint>

namespace ckpt {

inline constexpr int kMaxPidMappings = 4096;

class PidTable {
 public:
  // Forgets every pair, the process's own included.
  void clear();
  // Adds (or replaces) the pair vpid -> real. False when the table is full
  // or an id is not a positive pid.
  bool add(int32_t vpid, int32_t real);
  // The process's own pair (Runtime::vpid, Runtime::real_pid): answered even
  // when the table lacks it, and before any other pair.
  void set_self(int32_t vpid, int32_t real);

  // Identity for a pid the table does not know.
  int32_t to_real(int32_t vpid) const;
  int32_t to_virtual(int32_t real) const;
  // True when no pid needs translating: the wrappers' fast path.
  bool empty() const { return !translating_.load(std::memory_order_relaxed); }
  // True when `pid`, as a real pid (say, a new fork's), is the virtual pid
  // of a process that runs under another real pid: the two would clash.
  bool is_virtual_in_use(int32_t pid) const { return to_real(pid) != pid; }
  int size() const { return used_.load(std::memory_order_relaxed); }
  // Calls f(vpid, real) for every pair but the process's own.
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& slot : by_virtual_) {
      uint64_t word = slot.load(std::memory_order_acquire);
      auto vpid = static_cast<int32_t>(word >> 32), real = static_cast<int32_t>(word & 0xffffffffu);
      if (vpid > 0 && real > 0) f(vpid, real);  // not empty, not a tombstone
    }
  }

 private:
  static constexpr int kSlots = 2 * kMaxPidMappings;  // load factor <= 1/2
  using Slots = std::atomic<uint64_t>[kSlots];

  static int32_t find(const Slots& slots, int32_t key);
  static void put(Slots& slots, int32_t key, int32_t value);
  void update_translating();

  std::atomic<bool> translating_{false};
  std::atomic<int32_t> self_virtual_{0}, self_real_{0};
  std::atomic<int32_t> used_{0};  // slots taken in each table (never freed but by clear)
  Slots by_virtual_ = {};
  Slots by_real_ = {};
};

}  // namespace ckpt
