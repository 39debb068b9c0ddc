// Union and difference of sorted page-range lists (see page_ranges.h).
#include "page_ranges.h"

namespace ckpt {
namespace {

// The ranges of a and b in order of start, one at a time.
struct UnionWalk {
  const PageRange *a, *b;
  uint32_t n_a, n_b, i = 0, j = 0;

  bool next(PageRange* r) {
    if (i < n_a && (j >= n_b || a[i].start <= b[j].start)) {
      *r = a[i++];
      return true;
    }
    if (j >= n_b) return false;
    *r = b[j++];
    return true;
  }
};

// Appends [s, t) minus the ranges of e to out; e is walked from *k on
// (ranges ending before s are passed for good: s only grows).
bool emit_minus(uint64_t s, uint64_t t, const PageRange* e, uint32_t n_e, uint32_t* k,
                PageRange* out, uint32_t cap, long* n) {
  while (*k < n_e && e[*k].end <= s) (*k)++;
  for (uint32_t q = *k; q < n_e && e[q].start < t && s < t; q++) {
    if (e[q].start > s) {
      if (*n == cap) return false;
      out[(*n)++] = {s, e[q].start};
    }
    if (e[q].end > s) s = e[q].end;
  }
  if (s < t) {
    if (*n == cap) return false;
    out[(*n)++] = {s, t};
  }
  return true;
}

}  // namespace

long merge_page_ranges(const PageRange* a, uint32_t n_a, const PageRange* b, uint32_t n_b,
                       const PageRange* e, uint32_t n_e, PageRange* out, uint32_t cap) {
  UnionWalk walk{a, b, n_a, n_b};
  long n = 0;
  uint32_t k = 0;
  PageRange cur, r;
  if (!walk.next(&cur)) return 0;
  while (walk.next(&r)) {
    if (r.start <= cur.end) {  // overlaps or touches: one range
      if (r.end > cur.end) cur.end = r.end;
      continue;
    }
    if (!emit_minus(cur.start, cur.end, e, n_e, &k, out, cap, &n)) return -1;
    cur = r;
  }
  return emit_minus(cur.start, cur.end, e, n_e, &k, out, cap, &n) ? n : -1;
}

}  // namespace ckpt
