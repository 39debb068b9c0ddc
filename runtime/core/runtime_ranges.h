// Memory that belongs to the runtime's checkpoint machinery (buffers made
// while the application's threads are stopped) and must not be saved as the
// application's. Registered ranges are cut out of the memory plan.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ckpt {

struct Range {
  uint64_t start, end;
};

void exclude_range(const void* start, size_t len);
void clear_excluded_ranges();
// The registered ranges, at most kMaxExcluded.
int excluded_ranges(const Range** out);

inline constexpr int kMaxExcluded = 16;

}  // namespace ckpt
