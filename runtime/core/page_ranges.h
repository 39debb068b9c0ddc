// Sorted lists of page ranges, and their union and difference, malloc-free:
// the dirty-page tracker merges the scan made before a checkpoint's pause
// (while the program still runs) with the pause's own.
#pragma once

#include <cstdint>

namespace ckpt {

struct PageRange {
  uint64_t start, end;  // bytes, page aligned
};

// Writes (a ∪ b) \ e into out, at most `cap` ranges, coalescing ranges that
// touch. Each input is sorted by start, its ranges disjoint. Returns how
// many were written, or -1 when `cap` is too small.
long merge_page_ranges(const PageRange* a, uint32_t n_a, const PageRange* b, uint32_t n_b,
                       const PageRange* e, uint32_t n_e, PageRange* out, uint32_t cap);

}  // namespace ckpt
