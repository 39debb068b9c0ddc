// Shared memory objects as the kernel names them in /proc/self/maps: real
// mappings of each kind (anonymous shared, memfd, POSIX shm, System V, a
// deleted file) are shared memory objects; private memory and a shared
// mapping of a file that still exists are not.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "shm_mapping.h"

namespace ckpt {
namespace {

// The /proc/self/maps entry holding `addr`, classified (the kernel may have
// merged a private anonymous mapping with a neighbour: its entry then
// starts lower).
bool classify(void* addr, std::string* path) {
  std::ifstream in("/proc/self/maps");
  std::stringstream text;
  text << in.rdbuf();
  std::string maps = text.str();
  bool found = false, shm = false;
  for_each_map(maps, [&](const MapEntry& e) {
    const auto at = reinterpret_cast<uint64_t>(addr);
    if (e.start <= at && at < e.end) {
      found = true;
      shm = is_shm_mapping(e);
      *path = std::string(e.path);
    }
  });
  EXPECT_TRUE(found) << "no maps entry at " << addr;
  return shm;
}

constexpr size_t kLen = 8192;

void* map_fd(int fd, int flags) {
  EXPECT_EQ(ftruncate(fd, kLen), 0);
  void* p = mmap(nullptr, kLen, PROT_READ | PROT_WRITE, flags, fd, 0);
  EXPECT_NE(p, MAP_FAILED);
  return p;
}

TEST(ShmMapping, EachKindOfSharedMemoryObject) {
  std::string path;
  void* anon = mmap(nullptr, kLen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  EXPECT_TRUE(classify(anon, &path)) << path;

  int memfd = memfd_create("ckpt_test", 0);
  void* mem = map_fd(memfd, MAP_SHARED);
  EXPECT_TRUE(classify(mem, &path)) << path;

  std::string name = "/ckpt_test_shm_" + std::to_string(getpid());
  int posix = shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(posix, 0);
  void* named = map_fd(posix, MAP_SHARED);
  EXPECT_TRUE(classify(named, &path)) << path;
  shm_unlink(name.c_str());

  int id = shmget(IPC_PRIVATE, kLen, IPC_CREAT | 0600);
  ASSERT_GE(id, 0);
  void* sysv = shmat(id, nullptr, 0);
  shmctl(id, IPC_RMID, nullptr);
  EXPECT_TRUE(classify(sysv, &path)) << path;

  char tmp[] = "/tmp/ckpt_test_shm_XXXXXX";
  int file = mkstemp(tmp);
  void* deleted = map_fd(file, MAP_SHARED);
  unlink(tmp);
  EXPECT_TRUE(classify(deleted, &path)) << path;

  munmap(anon, kLen);
  munmap(mem, kLen);
  munmap(named, kLen);
  shmdt(sysv);
  munmap(deleted, kLen);
  for (int fd : {memfd, posix, file}) close(fd);
}

TEST(ShmMapping, PrivateMemoryAndLiveFilesAreNot) {
  std::string path;
  void* priv = mmap(nullptr, kLen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  EXPECT_FALSE(classify(priv, &path)) << path;

  char tmp[] = "/tmp/ckpt_test_file_XXXXXX";
  int file = mkstemp(tmp);
  void* shared_file = map_fd(file, MAP_SHARED);
  EXPECT_FALSE(classify(shared_file, &path)) << path;
  void* private_file = mmap(nullptr, kLen, PROT_READ, MAP_PRIVATE, file, 0);
  EXPECT_FALSE(classify(private_file, &path)) << path;

  munmap(priv, kLen);
  munmap(shared_file, kLen);
  munmap(private_file, kLen);
  close(file);
  unlink(tmp);
}

}  // namespace
}  // namespace ckpt
