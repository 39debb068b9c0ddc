// System V capture -> image record -> restore, in this process: a semaphore
// set and a message queue the runtime saw used are captured (sysv_capture),
// their records decoded as ckpt_restart reads them, and recreated
// (SysvRestorer) as new private objects with the same values and messages,
// oldest first; the id map sends the old ids to the new ones.
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>

#include <cstring>
#include <vector>

#include "common/image_reader.h"
#include "gtest/gtest.h"
#include "runtime/core/runtime.h"
#include "sysv_capture.h"
#include "sysv_restore.h"

namespace ckpt {
namespace {

using image::SysvKind;
using image::SysvRecord;

struct Message {
  long mtype;
  char mtext[16];
};

// Removes the System V objects a test made, whatever happens.
struct IpcCleanup {
  std::vector<int> sems, queues;
  ~IpcCleanup() {
    for (int id : sems) semctl(id, 0, IPC_RMID);
    for (int id : queues) msgctl(id, IPC_RMID, nullptr);
  }
};

std::vector<SysvRecord> decode_payload(const ByteWriter& out) {
  std::vector<SysvRecord> records;
  ByteReader r(out.data(), out.size());
  uint32_t n = r.u32();
  for (uint32_t i = 0; r.ok() && i < n; i++) {
    SysvRecord rec;
    if (!rec.decode(r)) break;
    records.push_back(rec);
  }
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(records.size(), n);
  return records;
}

int32_t mapped(const std::vector<std::pair<int32_t, int32_t>>& map, int32_t virt) {
  for (const auto& [v, real] : map)
    if (v == virt) return real;
  return virt;
}

TEST(SysvRoundTrip, SemaphoresAndMessagesComeBackInNewObjects) {
  IpcCleanup cleanup;
  int sem = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
  ASSERT_GE(sem, 0);
  cleanup.sems.push_back(sem);
  unsigned short values[3] = {1, 2, 300};
  ASSERT_EQ(semctl(sem, 0, SETALL, values), 0);
  int queue = msgget(IPC_PRIVATE, IPC_CREAT | 0640);
  ASSERT_GE(queue, 0);
  cleanup.queues.push_back(queue);
  Message first = {5, "hello"}, second = {7, "world!"};
  ASSERT_EQ(msgsnd(queue, &first, 6, 0), 0);
  ASSERT_EQ(msgsnd(queue, &second, 7, 0), 0);

  static Runtime rt;  // large: not on the stack
  rt.used_sems.add(sem);
  rt.used_msgs.add(queue);
  static uint8_t buf[64 * 1024];
  ByteWriter out(buf, sizeof(buf));
  MessageString err;
  ASSERT_TRUE(capture_sysv_objects(rt, out, err)) << err.view();
  std::vector<image::LoadedImage> images(1);
  images[0].sysv_objects = decode_payload(out);
  ASSERT_EQ(images[0].sysv_objects.size(), 2u);

  SysvRestorer restorer(images);
  std::string error;
  ASSERT_TRUE(restorer.create_all(&error)) << error;
  int new_sem = mapped(restorer.id_map(SysvKind::kSemaphores), sem);
  int new_queue = mapped(restorer.id_map(SysvKind::kMessages), queue);
  ASSERT_NE(new_sem, sem);  // IPC_PRIVATE: a new set, the old one still exists
  ASSERT_NE(new_queue, queue);
  cleanup.sems.push_back(new_sem);
  cleanup.queues.push_back(new_queue);

  unsigned short back[3] = {};
  ASSERT_EQ(semctl(new_sem, 0, GETALL, back), 0);
  EXPECT_EQ(std::memcmp(back, values, sizeof(values)), 0);
  msqid_ds ds = {};
  ASSERT_EQ(msgctl(new_queue, IPC_STAT, &ds), 0);
  EXPECT_EQ(ds.msg_perm.mode & 0777, 0640u);
  EXPECT_EQ(ds.msg_qnum, 2u);
  Message m = {};
  ASSERT_EQ(msgrcv(new_queue, &m, sizeof(m.mtext), 0, IPC_NOWAIT), 6);
  EXPECT_EQ(m.mtype, 5);
  EXPECT_STREQ(m.mtext, "hello");
  ASSERT_EQ(msgrcv(new_queue, &m, sizeof(m.mtext), 0, IPC_NOWAIT), 7);
  EXPECT_EQ(m.mtype, 7);
  EXPECT_STREQ(m.mtext, "world!");
}

TEST(SysvRoundTrip, MoreObjectsThanTheRuntimeTracksFailTheCapture) {
  static Runtime rt;
  for (int id = 1; id <= SysvIdSet::kMax + 1; id++) rt.used_msgs.add(id);
  static uint8_t buf[256];
  ByteWriter out(buf, sizeof(buf));
  MessageString err;
  EXPECT_FALSE(capture_sysv_objects(rt, out, err));
  EXPECT_EQ(std::string(err.view()), "used more than " + std::to_string(SysvIdSet::kMax) +
                                         " System V message queues: not supported");
}

TEST(SysvRoundTrip, NothingUsedCapturesNothing) {
  static Runtime rt;
  static uint8_t buf[256];
  ByteWriter out(buf, sizeof(buf));
  MessageString err;
  ASSERT_TRUE(capture_sysv_objects(rt, out, err));
  EXPECT_EQ(out.size(), 0u);
}

}  // namespace
}  // namespace ckpt
