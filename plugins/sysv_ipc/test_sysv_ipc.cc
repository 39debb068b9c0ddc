// The System V id tables of the runtime: after a restart the application
// keeps the ids of before (virtual -> real and back, unknown ids unchanged),
// and the sets of ids a process used hold each id once, up to their bound.
#include "ckpt/restore_args.h"
#include "gtest/gtest.h"
#include "sysv_ipc.h"

namespace ckpt {
namespace {

// Every id ckpt_restart can pass on (RestoreArgs) fits in the runtime's tables.
static_assert(SysvIdTable::kMax >= static_cast<int>(kMaxRestoreShmIds));
static_assert(SysvIdTable::kMax >= static_cast<int>(kMaxRestoreSemIds));
static_assert(SysvIdTable::kMax >= static_cast<int>(kMaxRestoreMsgIds));

TEST(SysvIdTable, TranslatesBothWaysAndLeavesUnknownIds) {
  static SysvIdTable t;
  t.clear();
  EXPECT_EQ(t.to_real(7), 7);
  t.add(7, 70);
  t.add(8, 80);
  EXPECT_EQ(t.to_real(7), 70);
  EXPECT_EQ(t.to_virtual(80), 8);
  EXPECT_EQ(t.to_real(9), 9);
  EXPECT_EQ(t.to_virtual(9), 9);
  t.add(7, 71);  // the same virtual id again: replaced, not added
  EXPECT_EQ(t.to_real(7), 71);
  t.clear();
  EXPECT_EQ(t.to_real(7), 7);
}

TEST(SysvIdSet, HoldsEachIdOnceUpToItsBound) {
  static SysvIdSet s;
  s.add(0);
  s.add(5);
  s.add(5);
  ASSERT_EQ(s.size(), 2);
  EXPECT_EQ(s.at(0), 0);
  EXPECT_EQ(s.at(1), 5);
  for (int id = 100; id < 100 + SysvIdSet::kMax - 2; id++) s.add(id);
  EXPECT_EQ(s.size(), SysvIdSet::kMax);
  EXPECT_FALSE(s.full());  // exactly kMax ids: none left out
  for (int id = 100; id < 100 + 2 * SysvIdSet::kMax; id++) s.add(id);
  EXPECT_EQ(s.size(), SysvIdSet::kMax);
  EXPECT_TRUE(s.full());
}

}  // namespace
}  // namespace ckpt
