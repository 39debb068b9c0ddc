// The descriptor families' tables of operations: real descriptors of each
// kind are classified by the family that owns them, in the capture order;
// every kind a capture can produce has a restore table (but epolls, made by
// FdRestorer::place) and a name in ckpt_info.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "fd_capture_ops.h"
#include "fd_describe_ops.h"
#include "fd_restore_ops.h"
#include "gtest/gtest.h"

namespace ckpt {
namespace {

using image::FdKind;

// The family and kind the capture side gives descriptor `fd`.
std::string classify(int fd, FdKind* kind) {
  struct stat st;
  EXPECT_EQ(fstat(fd, &st), 0);
  char link[64], target[4096] = {};
  std::snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  EXPECT_GT(readlink(link, target, sizeof(target) - 1), 0);
  for (const FdCaptureOps* ops : fd_capture_families()) {
    *kind = ops->classify(st, target);
    if (*kind != FdKind::kOther) return ops->family;
  }
  *kind = FdKind::kOther;
  return "";
}

TEST(FdFamilies, EachDescriptorGoesToItsFamily) {
  int p[2], s[2];
  ASSERT_EQ(pipe(p), 0);
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, s), 0);
  int efd = eventfd(0, 0), ep = epoll_create1(0), in = inotify_init1(0);
  int file = open("/proc/self/exe", O_RDONLY), dir = open("/", O_RDONLY | O_DIRECTORY);
  int null = open("/dev/null", O_RDONLY);
  struct Case {
    int fd;
    FdKind kind;
    const char* family;
  } cases[] = {
      {p[0], FdKind::kPipe, "pipes"},       {s[0], FdKind::kSocket, "sockets"},
      {efd, FdKind::kEventfd, "event fds"}, {ep, FdKind::kEpoll, "event fds"},
      {in, FdKind::kInotify, "inotify"},    {file, FdKind::kRegular, "files"},
      {dir, FdKind::kDirectory, "files"},   {null, FdKind::kDevice, "devices"},
  };
  for (const Case& c : cases) {
    FdKind kind;
    EXPECT_EQ(classify(c.fd, &kind), c.family) << "fd " << c.fd;
    EXPECT_EQ(kind, c.kind) << "fd " << c.fd;
  }
  for (int fd : {p[0], p[1], s[0], s[1], efd, ep, in, file, dir, null}) close(fd);
}

TEST(FdFamilies, EveryKindCanBeRestoredAndNamed) {
  for (uint32_t k = 1; k <= 17; k++) {
    auto kind = static_cast<FdKind>(k);
    if (kind == FdKind::kOther) {
      EXPECT_EQ(fd_restore_ops(kind), nullptr);
      EXPECT_STREQ(fd_kind_name(kind), "other");
      continue;
    }
    if (kind != FdKind::kEpoll) EXPECT_NE(fd_restore_ops(kind), nullptr) << "kind " << k;
    EXPECT_NE(fd_describe_ops(kind), nullptr) << "kind " << k;
    EXPECT_STRNE(fd_kind_name(kind), "?") << "kind " << k;
  }
}

TEST(FdFamilies, PrintableEscapesControlBytes) {
  EXPECT_EQ(printable(std::string_view("a\0b\n", 4)), "a\\x00b\\x0a");
}

}  // namespace
}  // namespace ckpt
