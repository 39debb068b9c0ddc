// The lazy restart's map of where its memory is now (launcher/restart/
// lazy_pieces.h): mremap and munmap of parts of a region, moves onto other
// lazy memory, and the image addresses of a range.
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "launcher/restart/lazy_pieces.h"

namespace ckpt {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kA = 0x100000000, kB = 0x200000000, kElsewhere = 0x300000000;

TEST(LazyPieces, UntouchedRegionsAreWhereTheImageHasThem) {
  LazyPieces m;
  m.add(kA, 16 * kPage);
  EXPECT_EQ(m.orig_of(kA + 3 * kPage), kA + 3 * kPage);
  EXPECT_EQ(m.now_of(kA + 15 * kPage), kA + 15 * kPage);
  EXPECT_EQ(m.orig_of(kA + 16 * kPage), 0u);
  EXPECT_EQ(m.orig_of(kB), 0u);
}

TEST(LazyPieces, MunmapOfTheMiddleLeavesBothEnds) {
  LazyPieces m;
  m.add(kA, 16 * kPage);
  m.unmap(kA + 4 * kPage, kA + 8 * kPage);
  EXPECT_EQ(m.now_of(kA + 3 * kPage), kA + 3 * kPage);
  EXPECT_EQ(m.now_of(kA + 4 * kPage), 0u);
  EXPECT_EQ(m.now_of(kA + 7 * kPage), 0u);
  EXPECT_EQ(m.now_of(kA + 8 * kPage), kA + 8 * kPage);
  EXPECT_EQ(m.orig_of(kA + 5 * kPage), 0u);
}

TEST(LazyPieces, MremapMovesAPartAndItCanMoveAgain) {
  LazyPieces m;
  m.add(kA, 16 * kPage);
  m.remap(kA + 8 * kPage, kElsewhere, 4 * kPage);
  EXPECT_EQ(m.now_of(kA + 9 * kPage), kElsewhere + kPage);
  EXPECT_EQ(m.orig_of(kElsewhere + 3 * kPage), kA + 11 * kPage);
  EXPECT_EQ(m.orig_of(kA + 9 * kPage), 0u);  // gone from there
  EXPECT_EQ(m.now_of(kA + 12 * kPage), kA + 12 * kPage);
  m.remap(kElsewhere + kPage, kB + 64 * kPage, kPage);
  EXPECT_EQ(m.now_of(kA + 9 * kPage), kB + 64 * kPage);
  EXPECT_EQ(m.now_of(kA + 8 * kPage), kElsewhere);
}

TEST(LazyPieces, MremapOntoOtherLazyMemoryReplacesIt) {
  LazyPieces m;
  m.add(kA, 8 * kPage);
  m.add(kB, 8 * kPage);
  m.remap(kA, kB + 2 * kPage, 2 * kPage);
  EXPECT_EQ(m.orig_of(kB + 2 * kPage), kA);
  EXPECT_EQ(m.orig_of(kB + 3 * kPage), kA + kPage);
  EXPECT_EQ(m.now_of(kB + 2 * kPage), 0u);  // the target's own pages are gone
  EXPECT_EQ(m.now_of(kB + 4 * kPage), kB + 4 * kPage);
  EXPECT_EQ(m.now_of(kA + 2 * kPage), kA + 2 * kPage);
}

TEST(LazyPieces, ImageAddressesOfARangeFollowTheMoves) {
  LazyPieces m;
  m.add(kA, 8 * kPage);
  m.remap(kA, kElsewhere, 2 * kPage);
  std::vector<std::pair<uint64_t, uint64_t>> parts;
  m.for_each_orig(kElsewhere + kPage, kElsewhere + 2 * kPage,
                  [&](uint64_t s, uint64_t e) { parts.emplace_back(s, e); });
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0], std::make_pair(kA + kPage, kA + 2 * kPage));
  parts.clear();
  m.for_each_orig(kA, kA + 8 * kPage, [&](uint64_t s, uint64_t e) { parts.emplace_back(s, e); });
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0], std::make_pair(kA + 2 * kPage, kA + 8 * kPage));
}

}  // namespace
}  // namespace ckpt
