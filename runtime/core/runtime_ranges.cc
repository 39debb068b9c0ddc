// The runtime's own memory ranges (see runtime_ranges.h).
#include "runtime_ranges.h"

namespace ckpt {
namespace {

Range g_ranges[kMaxExcluded];
int g_count = 0;

}  // namespace

void exclude_range(const void* start, size_t len) {
  if (!start || !len || g_count == kMaxExcluded) return;
  auto s = reinterpret_cast<uint64_t>(start) & ~4095ull;
  uint64_t e = (reinterpret_cast<uint64_t>(start) + len + 4095) & ~4095ull;
  for (int i = 0; i < g_count; i++)
    if (g_ranges[i].start == s && g_ranges[i].end == e)
      return;  // a buffer kept between checkpoints
  g_ranges[g_count++] = {s, e};
}

void clear_excluded_ranges() { g_count = 0; }

int excluded_ranges(const Range** out) {
  *out = g_ranges;
  return g_count;
}

}  // namespace ckpt
