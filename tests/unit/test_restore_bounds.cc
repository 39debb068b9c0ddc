// restore_bounds.h: the lists ckpt_restart copies into RestoreArgs fail the
// restart, naming what overflowed, instead of dropping entries past a bound.
#include <gtest/gtest.h>

#include <memory>

#include "launcher/restart/restore_bounds.h"
#include "plugins/pids/pid_table.h"

namespace ckpt {
namespace {

// Every pid ckpt_restart can pass on fits in the runtime's table.
static_assert(kMaxPidMappings >= static_cast<int>(kMaxRestorePidMap));

std::vector<std::pair<int32_t, int32_t>> pairs(uint32_t n) {
  std::vector<std::pair<int32_t, int32_t>> v;
  for (uint32_t i = 0; i < n; i++) v.emplace_back(100 + i, 5000 + i);
  return v;
}

TEST(RestoreBounds, IdMapFilledUpToItsBound) {
  auto args = std::make_unique<RestoreArgs>();
  std::string err;
  ASSERT_TRUE(fill_id_map(args->semids, pairs(kMaxRestoreSemIds), "semaphore sets", &err));
  EXPECT_EQ(args->semids.n, kMaxRestoreSemIds);
  EXPECT_EQ(args->semids.virt[kMaxRestoreSemIds - 1],
            static_cast<int32_t>(100 + kMaxRestoreSemIds - 1));
  EXPECT_EQ(args->semids.real[0], 5000);
  EXPECT_TRUE(err.empty());
}

TEST(RestoreBounds, IdMapPastItsBoundFailsNamingIt) {
  auto args = std::make_unique<RestoreArgs>();
  std::string err;
  EXPECT_FALSE(
      fill_id_map(args->pids, pairs(kMaxRestorePidMap + 1), "processes whose pid changed", &err));
  EXPECT_EQ(args->pids.n, 0u);
  EXPECT_EQ(err, std::to_string(kMaxRestorePidMap + 1) +
                     " processes whose pid changed: ckpt_restart can pass on " +
                     std::to_string(kMaxRestorePidMap) + " at most");
}

TEST(RestoreBounds, EachIdMapHasItsOwnBound) {
  auto args = std::make_unique<RestoreArgs>();
  std::string err;
  // More than the System V bounds, fewer than the pid bound.
  auto many = pairs(kMaxRestoreShmIds + 1);
  ASSERT_LT(many.size(), kMaxRestorePidMap);
  EXPECT_TRUE(fill_id_map(args->pids, many, "processes", &err));
  EXPECT_FALSE(fill_id_map(args->shmids, many, "segments", &err));
  EXPECT_FALSE(fill_id_map(args->msgids, many, "queues", &err));
}

TEST(RestoreBounds, ShmDescriptorsPastTheBoundFail) {
  auto args = std::make_unique<RestoreArgs>();
  std::string err;
  std::vector<int> fds(kMaxRestoreShm);
  for (size_t i = 0; i < fds.size(); i++) fds[i] = static_cast<int>(10 + i);
  ASSERT_TRUE(fill_bounded(args->shm_fds, args->n_shm_fds, kMaxRestoreShm, fds, "objects", &err));
  EXPECT_EQ(args->n_shm_fds, kMaxRestoreShm);
  EXPECT_EQ(args->shm_fds[kMaxRestoreShm - 1], static_cast<int>(10 + kMaxRestoreShm - 1));
  fds.push_back(9999);
  EXPECT_FALSE(fill_bounded(args->shm_fds, args->n_shm_fds, kMaxRestoreShm, fds,
                            "shared memory objects to map by descriptor", &err));
  EXPECT_EQ(args->n_shm_fds, 0u);
  EXPECT_NE(err.find("shared memory objects to map by descriptor"), std::string::npos);
}

TEST(RestoreBounds, TemporaryAttachmentsPastTheBoundFail) {
  auto args = std::make_unique<RestoreArgs>();
  std::string err;
  std::vector<uint64_t> at(kMaxRestoreShm + 3, 0x7f0000000000);
  EXPECT_FALSE(fill_bounded(args->shm_detach, args->n_shm_detach, kMaxRestoreShm, at,
                            "temporary System V attachments", &err));
  EXPECT_EQ(err, std::to_string(kMaxRestoreShm + 3) +
                     " temporary System V attachments: ckpt_restart can pass on " +
                     std::to_string(kMaxRestoreShm) + " at most");
}

}  // namespace
}  // namespace ckpt
