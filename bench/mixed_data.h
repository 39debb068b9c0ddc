// The benchmark's mixed data, shared by the workload and the floor
// benchmarks so that both see the same bytes: per 4 KiB page, 25% zero, 25% a
// repeating pattern of doubles, 50% pseudo-random doubles (splitmix64).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ckpt::bench {

inline constexpr size_t kPageSize = 4096;
inline constexpr size_t kDoublesPerPage = kPageSize / sizeof(double);

inline uint64_t splitmix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

inline double unit_double(uint64_t r) { return static_cast<double>(r >> 11) * 0x1.0p-53; }

enum class PageKind { kZero, kPattern, kRandom };

// Page p of the data: p % 4 == 0 zero, 1 pattern, 2 and 3 random.
inline PageKind page_kind(uint64_t p) {
  switch (p % 4) {
    case 0:
      return PageKind::kZero;
    case 1:
      return PageKind::kPattern;
    default:
      return PageKind::kRandom;
  }
}

// Fresh random doubles for one page.
inline void fill_random_page(double* d, uint64_t* rng) {
  for (size_t j = 0; j < kDoublesPerPage; j++) d[j] = unit_double(splitmix64(rng));
}

// Writes page p (zero pages are written too, so that every page is resident).
inline void fill_page(double* d, uint64_t p, uint64_t* rng) {
  switch (page_kind(p)) {
    case PageKind::kZero:
      std::memset(d, 0, kPageSize);
      break;
    case PageKind::kPattern:
      for (size_t j = 0; j < kDoublesPerPage; j++)
        d[j] = static_cast<double>(j % 8) * 0.5 + static_cast<double>(p % 13) * 0.25;
      break;
    case PageKind::kRandom:
      fill_random_page(d, rng);
      break;
  }
}

// Fills `bytes` (a multiple of kPageSize) starting at page index first_page.
inline void fill_mixed(void* base, size_t bytes, uint64_t first_page, uint64_t seed) {
  uint64_t rng = seed * 0x100000001b3ull + first_page;
  auto* d = static_cast<double*>(base);
  for (size_t i = 0; i < bytes / kPageSize; i++)
    fill_page(d + i * kDoublesPerPage, first_page + i, &rng);
}

}  // namespace ckpt::bench
