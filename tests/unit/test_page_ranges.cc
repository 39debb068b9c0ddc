// Union and difference of sorted page-range lists (runtime/core/page_ranges.h),
// as the dirty-page tracker merges a pre-pause scan into the pause's.
#include <gtest/gtest.h>

#include <vector>

#include "runtime/core/page_ranges.h"

namespace ckpt {
namespace {

using Ranges = std::vector<PageRange>;

Ranges merge(const Ranges& a, const Ranges& b, const Ranges& e, uint32_t cap = 64) {
  Ranges out(cap);
  long n = merge_page_ranges(a.data(), static_cast<uint32_t>(a.size()), b.data(),
                             static_cast<uint32_t>(b.size()), e.data(),
                             static_cast<uint32_t>(e.size()), out.data(), cap);
  if (n < 0) return {{~0ull, ~0ull}};
  out.resize(static_cast<size_t>(n));
  return out;
}

bool same(const Ranges& x, const Ranges& y) {
  if (x.size() != y.size()) return false;
  for (size_t i = 0; i < x.size(); i++)
    if (x[i].start != y[i].start || x[i].end != y[i].end) return false;
  return true;
}

TEST(PageRanges, EmptyInputsGiveNothing) { EXPECT_TRUE(same(merge({}, {}, {}), {})); }

TEST(PageRanges, UnionKeepsOrderAndCoalescesTouchingRanges) {
  EXPECT_TRUE(
      same(merge({{0, 4}, {20, 24}}, {{4, 8}, {10, 12}}, {}), {{0, 8}, {10, 12}, {20, 24}}));
  EXPECT_TRUE(same(merge({{0, 16}}, {{4, 8}}, {}), {{0, 16}}));             // b inside a
  EXPECT_TRUE(same(merge({{8, 12}}, {{0, 10}, {11, 20}}, {}), {{0, 20}}));  // a bridges two of b
}

TEST(PageRanges, DifferenceCutsAndSplits) {
  // A range emptied after the pre-scan leaves the union; one in the middle splits it.
  EXPECT_TRUE(same(merge({{0, 16}}, {}, {{4, 8}}), {{0, 4}, {8, 16}}));
  EXPECT_TRUE(same(merge({{0, 16}}, {}, {{0, 16}}), {}));
  EXPECT_TRUE(same(merge({{0, 8}, {12, 20}}, {}, {{6, 14}}), {{0, 6}, {14, 20}}));
  // One emptied range spanning several union ranges, and ranges of e outside.
  EXPECT_TRUE(
      same(merge({{0, 4}, {8, 12}, {16, 20}}, {}, {{2, 18}, {30, 40}}), {{0, 2}, {18, 20}}));
}

TEST(PageRanges, UnionThenDifference) {
  EXPECT_TRUE(same(merge({{0, 8}}, {{6, 12}, {20, 28}}, {{10, 22}}), {{0, 10}, {22, 28}}));
}

TEST(PageRanges, TooSmallAnOutputIsAnError) {
  EXPECT_EQ(merge({{0, 4}, {8, 12}}, {}, {}, 1).front().start, ~0ull);
  EXPECT_EQ(merge({{0, 16}}, {}, {{4, 8}}, 1).front().start, ~0ull);
  EXPECT_EQ(merge({{0, 16}}, {}, {{4, 8}}, 2).size(), 2u);
}

}  // namespace
}  // namespace ckpt
