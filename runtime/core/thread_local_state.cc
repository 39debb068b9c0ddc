// Per-thread runtime state and the virtual tid registry (see
// thread_local_state.h).
#include "thread_local_state.h"

#include <time.h>

#include "ckpt/sys.h"
#include "thread_pointer.h"

namespace ckpt {

thread_local ThreadLocalState t_state __attribute__((tls_model("initial-exec")));

namespace {

constexpr int32_t kFirstSyntheticTid = 1 << 22;  // above the kernel's pid_max
std::atomic<int32_t> g_next_synthetic{kFirstSyntheticTid};

bool vtid_taken(const Runtime& rt, int32_t vtid) {
  for (const auto& e : rt.tids)
    if (e.vtid.load() == vtid) return true;
  return false;
}

void register_vtid(Runtime& rt, int32_t vtid, uint64_t tid_addr) {
  for (auto& e : rt.tids) {  // a reused struct pthread replaces its old entry
    if (e.tid_addr.load() == tid_addr) {
      e.vtid.store(vtid);
      return;
    }
  }
  for (auto& e : rt.tids) {
    uint64_t zero = 0;
    if (e.tid_addr.compare_exchange_strong(zero, tid_addr)) {
      e.vtid.store(vtid);
      return;
    }
  }
}

}  // namespace

int64_t monotonic_ns() {
  // The vDSO (async-signal-safe, and at the same address after a restart):
  // the blocking-call wrappers call this on every call.
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

int32_t current_vtid(Runtime& rt) {
  if (t_state.vtid) return t_state.vtid;
  auto real = static_cast<int32_t>(sys::gettid());
  int32_t vtid = real;
  if (real == rt.real_pid && rt.restart_count == 0)
    vtid = rt.vpid;
  else if (vtid_taken(rt, vtid))
    vtid = g_next_synthetic.fetch_add(1);
  t_state.vtid = vtid;
  if (rt.tid_offset >= 0) register_vtid(rt, vtid, thread_pointer() + rt.tid_offset);
  return vtid;
}

int32_t real_tid_of(Runtime& rt, int32_t vtid) {
  for (const auto& e : rt.tids) {
    if (e.vtid.load() != vtid) continue;
    uint64_t addr = e.tid_addr.load();
    int32_t real = addr ? *reinterpret_cast<volatile int32_t*>(addr) : 0;
    if (real > 0) return real;
  }
  return vtid;
}

}  // namespace ckpt
