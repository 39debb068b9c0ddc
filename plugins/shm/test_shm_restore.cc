// ShmRestorer (shm_restore.h) on records as ckpt_restart reads them: each
// object is created once, sized to its largest mapping, kept on a
// descriptor above the images' numbers or (System V) on a temporary
// attachment, with the old shmid mapped to the new one; more objects than
// RestoreArgs can hand on fail before anything is made.
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "ckpt/restore_args.h"
#include "gtest/gtest.h"
#include "shm_restore.h"

namespace ckpt {
namespace {

using image::RegionKind;
using image::ShmKind;

constexpr int kFdFloor = 500;

image::ShmRecord memfd_record() {
  image::ShmRecord r;
  r.dev = 1;
  r.ino = 11;
  r.kind = ShmKind::kMemfd;
  r.size = 10000;
  r.mode = 0600;
  r.path = "memfd:ckpt-test";
  return r;
}

image::ShmRecord sysv_record() {
  image::ShmRecord r;
  r.dev = 2;
  r.ino = 22;
  r.kind = ShmKind::kSysV;
  r.size = 8192;
  r.mode = 0600;
  r.key = IPC_PRIVATE;
  r.shmid = 777777;  // as the application knew it
  return r;
}

// A mapping of the memfd past its saved size, without content.
image::RegionRecord memfd_region() {
  image::RegionRecord r;
  r.start = 0x600000000000;
  r.end = r.start + 16384;
  r.kind = RegionKind::kAnonShared;
  r.dev = 1;
  r.ino = 11;
  return r;
}

TEST(ShmRestorer, CreatesEachObjectOnceAndHandsItOn) {
  std::vector<image::LoadedImage> images(2);
  for (auto& img : images) {
    img.path = "/dev/null";  // no memory chunks: opened, nothing read
    img.shm_objects = {memfd_record(), sysv_record()};
    img.regions = {memfd_region()};
  }
  ShmRestorer shm(images, true);
  std::string err;
  ASSERT_TRUE(shm.create_all(kFdFloor, &err)) << err;

  std::vector<int> fds = shm.fds();
  ASSERT_EQ(fds.size(), 1u);
  EXPECT_GE(fds[0], kFdFloor);
  const ShmObject* memfd = shm.find(1, 11);
  ASSERT_NE(memfd, nullptr);
  EXPECT_EQ(memfd->fd, fds[0]);
  struct stat st;
  ASSERT_EQ(fstat(memfd->fd, &st), 0);
  EXPECT_EQ(st.st_size, 16384);  // grown to the mapping

  auto ids = shm.shmid_map();
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0].first, 777777);
  const ShmObject* seg = shm.find(2, 22);
  ASSERT_NE(seg, nullptr);
  EXPECT_EQ(ids[0].second, seg->shmid);
  shmid_ds ds = {};
  ASSERT_EQ(shmctl(seg->shmid, IPC_STAT, &ds), 0);
  EXPECT_EQ(ds.shm_segsz, 8192u);
  EXPECT_EQ(ds.shm_perm.mode & 0777, 0600u);
  auto attached = shm.temp_attachments();
  ASSERT_EQ(attached.size(), 1u);
  EXPECT_EQ(attached[0], seg->temp_attach);

  shmdt(reinterpret_cast<void*>(seg->temp_attach));
  shmctl(seg->shmid, IPC_RMID, nullptr);
  close(memfd->fd);
}

TEST(ShmRestorer, MoreObjectsThanTheRestorerTakesFailFirst) {
  std::vector<image::LoadedImage> images(1);
  for (uint32_t i = 0; i <= kMaxRestoreShm; i++) {
    image::ShmRecord r = memfd_record();
    r.ino = 1000 + i;
    images[0].shm_objects.push_back(r);
  }
  ShmRestorer shm(images, true);
  std::string err;
  EXPECT_FALSE(shm.create_all(kFdFloor, &err));
  EXPECT_EQ(err, "more than " + std::to_string(kMaxRestoreShm) + " shared memory objects");
  EXPECT_TRUE(shm.fds().empty());
}

}  // namespace
}  // namespace ckpt
