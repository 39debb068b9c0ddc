// The write mode policy (runtime/core/write_mode_policy.h): fork for what
// dirties little, copy-first for what sweeps its memory, fork whenever the
// copy does not fit, and the CKPT_WRITE_MODE override.
#include <gtest/gtest.h>

#include "runtime/core/write_mode_policy.h"

namespace ckpt {
namespace {

constexpr uint64_t kMiB = 1ull << 20, kGiB = 1ull << 30;

WriteModeInput input(uint64_t copy_bytes, uint64_t touched_per_s) {
  WriteModeInput in;
  in.copy_bytes = copy_bytes;
  in.touched_per_s = touched_per_s;
  in.mem_available = 16 * kGiB;
  return in;
}

TEST(WriteMode, ParsesTheSetting) {
  EXPECT_EQ(parse_write_mode(nullptr), WriteModeSetting::kAuto);
  EXPECT_EQ(parse_write_mode("auto"), WriteModeSetting::kAuto);
  EXPECT_EQ(parse_write_mode("fork"), WriteModeSetting::kFork);
  EXPECT_EQ(parse_write_mode("copy"), WriteModeSetting::kCopy);
  EXPECT_EQ(parse_write_mode("copying"), WriteModeSetting::kAuto);
  EXPECT_EQ(parse_write_mode(""), WriteModeSetting::kAuto);
}

TEST(WriteMode, SweeperCopiesFirst) {
  // 1 GiB written every 8 ms: every page would fault once during the write.
  auto in = input(kGiB, 128 * kGiB);
  EXPECT_EQ(choose_write_mode(in), WriteMode::kCopy);
  EXPECT_NEAR(fork_cost_s(in), 262144 * kCowFaultS, 1e-9);  // capped at every page once
  EXPECT_LT(copy_cost_s(in), fork_cost_s(in));
}

TEST(WriteMode, LowDirtyRateForks) {
  // The bench workload: 16 pages per ms of 1 GiB (64 MB/s).
  auto in = input(kGiB, 16 * 4096 * 1000);
  EXPECT_EQ(choose_write_mode(in), WriteMode::kFork);
  EXPECT_LT(fork_cost_s(in), copy_cost_s(in));
  // An idle process.
  EXPECT_EQ(choose_write_mode(input(4 * kGiB, 0)), WriteMode::kFork);
}

TEST(WriteMode, BreakEven) {
  // Copy when the faults cost more than one copy into the ready buffer:
  // touched pages x fault cost > bytes / copy bandwidth, with the write
  // lasting bytes / writer rate.
  uint64_t bytes = kGiB;
  double write_s = static_cast<double>(bytes) / kWriterBytesPerS;
  double pages_even = (static_cast<double>(bytes) / kCopyBytesPerS) / kCowFaultS;
  auto rate_even = static_cast<uint64_t>(pages_even * 4096 / write_s);
  auto below = input(bytes, rate_even / 2), above = input(bytes, rate_even * 2);
  below.buffer_ready = above.buffer_ready = bytes;
  EXPECT_EQ(choose_write_mode(below), WriteMode::kFork);
  EXPECT_EQ(choose_write_mode(above), WriteMode::kCopy);
}

TEST(WriteMode, SmallProcessesFork) {
  EXPECT_EQ(choose_write_mode(input(kMinCopyBytes - 1, 1000 * kGiB)), WriteMode::kFork);
  EXPECT_EQ(choose_write_mode(input(kMinCopyBytes, 1000 * kGiB)), WriteMode::kCopy);
}

TEST(WriteMode, ForksWhenMemoryIsShort) {
  auto in = input(kGiB, 128 * kGiB);
  in.mem_available = 2 * kGiB - 1;  // the copy may take at most half
  EXPECT_FALSE(copy_fits(in));
  EXPECT_EQ(choose_write_mode(in), WriteMode::kFork);
  in.mem_available = 2 * kGiB;
  EXPECT_EQ(choose_write_mode(in), WriteMode::kCopy);
  in.copy_limit = 512 * kMiB;  // CKPT_COPY_MAX_MIB=512
  EXPECT_EQ(choose_write_mode(in), WriteMode::kFork);
}

TEST(WriteMode, TheLastCheckpointForks) {
  // Killed once it commits: the faults after the fork cost nothing.
  auto sweeper = input(kGiB, 128 * kGiB);
  sweeper.last = true;
  EXPECT_EQ(choose_write_mode(sweeper), WriteMode::kFork);
  sweeper.setting = WriteModeSetting::kCopy;  // unless the user says copy
  EXPECT_EQ(choose_write_mode(sweeper), WriteMode::kCopy);
}

TEST(WriteMode, MakingTheBufferCounts) {
  // 64 MiB, touched at 300 MiB/s: the faults (~50 ms) cost more than a copy
  // into a ready buffer (~34 ms), less than making that buffer first.
  auto in = input(64 * kMiB, 300 * kMiB);
  EXPECT_EQ(choose_write_mode(in), WriteMode::kFork);
  EXPECT_NEAR(copy_cost_s(in), 64.0 * kMiB / kCopyBytesPerS + 64.0 * kMiB / kPopulateBytesPerS,
              1e-9);
  EXPECT_TRUE(copy_wins_once_ready(in));  // made after this checkpoint
  in.buffer_ready = 64 * kMiB;
  EXPECT_EQ(choose_write_mode(in), WriteMode::kCopy);
  EXPECT_FALSE(copy_wins_once_ready(in));  // copy already chosen
  // A sweeper copies at once, buffer or not.
  auto sweeper = input(kGiB, 128 * kGiB);
  EXPECT_EQ(choose_write_mode(sweeper), WriteMode::kCopy);
  // Neither for the last checkpoint, nor when a copy would never win.
  in.buffer_ready = 0;
  in.last = true;
  EXPECT_FALSE(copy_wins_once_ready(in));
  EXPECT_FALSE(copy_wins_once_ready(input(64 * kMiB, 1 * kMiB)));
}

TEST(WriteMode, OverrideWins) {
  auto sweeper = input(kGiB, 128 * kGiB);
  sweeper.setting = WriteModeSetting::kFork;
  EXPECT_EQ(choose_write_mode(sweeper), WriteMode::kFork);
  auto idle = input(64 * kMiB, 0);
  idle.setting = WriteModeSetting::kCopy;
  EXPECT_EQ(choose_write_mode(idle), WriteMode::kCopy);
  // Even forced, a copy that does not fit falls back to fork.
  idle.mem_available = 64 * kMiB;
  EXPECT_EQ(choose_write_mode(idle), WriteMode::kFork);
  // Nothing to copy.
  auto empty = input(0, 0);
  empty.setting = WriteModeSetting::kCopy;
  EXPECT_EQ(choose_write_mode(empty), WriteMode::kFork);
}

}  // namespace
}  // namespace ckpt
