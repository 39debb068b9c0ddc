// File locks: parse_file_locks reads the held locks of an fd's fdinfo
// (POSIX ranges, flock, OFD; not the waiters) and retake_file_locks takes
// them again, so that another process sees them as before.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "fdinfo.h"
#include "file_locks.h"
#include "gtest/gtest.h"

namespace ckpt {
namespace {

bool same(const HeldLock& a, const HeldLock& b) {
  return a.fd == b.fd && a.kind == b.kind && a.write == b.write && a.start == b.start &&
         a.end == b.end;
}

TEST(FileLocks, ParsesHeldLocksOnly) {
  HeldLock got[8];
  int n = 0;
  ASSERT_TRUE(parse_file_locks(7,
                               "pos:\t200\nflags:\t02100002\n"
                               "lock:\t1: POSIX  ADVISORY  WRITE 32041 fe:00:10954057 120 127\n"
                               "lock:\t1: -> POSIX  ADVISORY  WRITE 32050 fe:00:10954057 120 127\n"
                               "lock:\t2: POSIX  ADVISORY  READ 32041 fe:00:10954057 128 128\n"
                               "lock:\t3: FLOCK  ADVISORY  WRITE 32041 fe:00:10954057 0 EOF\n"
                               "lock:\t4: OFDLCK ADVISORY  READ -1 fe:00:10954057 5 EOF\n"
                               "lock:\t5: LEASE  ACTIVE    READ 32041 fe:00:10954057 0 EOF\n",
                               got, 8, &n));
  HeldLock want[] = {{7, LockKind::kPosix, true, 120, 127},
                     {7, LockKind::kPosix, false, 128, 128},
                     {7, LockKind::kFlock, true, 0, kLockToEof},
                     {7, LockKind::kOfd, false, 5, kLockToEof}};
  ASSERT_EQ(n, 4);
  for (int i = 0; i < n; i++) EXPECT_TRUE(same(got[i], want[i])) << i;
  n = 3;  // appends after what is there; false when full
  EXPECT_FALSE(parse_file_locks(7, "lock:\t1: POSIX  ADVISORY  READ 1 fe:00:1 0 0\n", got, 3, &n));
}

// F_GETLK from another process: the type of lock found on [start, start+len).
int probe(const std::string& path, short type, off_t start, off_t len) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(path.c_str(), O_RDWR);
    struct flock fl = {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = len;
    if (fd < 0 || fcntl(fd, F_GETLK, &fl) != 0) _exit(99);
    _exit(fl.l_type);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

bool set_lock(int fd, short type, off_t start, off_t len) {
  struct flock fl = {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = start;
  fl.l_len = len;
  return fcntl(fd, F_SETLK, &fl) == 0;
}

TEST(FileLocks, TakenAgainAfterRelease) {
  char tmpl[] = "/tmp/ckpt_locks_XXXXXX";
  int fd = mkstemp(tmpl);
  std::string path = tmpl;
  ASSERT_EQ(ftruncate(fd, 4096), 0);
  ASSERT_TRUE(set_lock(fd, F_WRLCK, 120, 8));
  ASSERT_TRUE(set_lock(fd, F_RDLCK, 128, 1));
  char buf[16384];
  HeldLock locks[8];
  int n = 0;
  ASSERT_TRUE(parse_file_locks(fd, read_fdinfo_text(fd, buf, sizeof(buf)), locks, 8, &n));
  EXPECT_EQ(n, 2);
  // Closing another fd of the file drops the process's POSIX locks, as a
  // restart's reopening does.
  close(open(path.c_str(), O_RDONLY));
  EXPECT_EQ(probe(path, F_WRLCK, 120, 8), F_UNLCK);

  MessageString err;
  ASSERT_TRUE(retake_file_locks(locks, n, err)) << err.view();
  EXPECT_EQ(probe(path, F_RDLCK, 120, 8), F_WRLCK);
  EXPECT_EQ(probe(path, F_WRLCK, 128, 1), F_RDLCK);
  EXPECT_EQ(probe(path, F_WRLCK, 200, 1), F_UNLCK);
  close(fd);
  unlink(path.c_str());
}

}  // namespace
}  // namespace ckpt
