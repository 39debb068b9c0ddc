// inotify: capture_inotify resolves every watch to its path; create_inotify
// gives them back with the same watch descriptors, gaps included, and the
// new instance reports events under those numbers.
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "inotify_capture.h"
#include "inotify_restore.h"
#include "tests/unit/fd_record_helper.h"

namespace ckpt {
namespace {

using test::LiveRecord;

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/ckpt_inotify_XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf " + path).c_str()); }
  std::string make_dir(const std::string& name) const {
    std::string p = path + "/" + name;
    mkdir(p.c_str(), 0755);
    return p;
  }
};

// The wd of the first event queued on fd (waits a little), -1 if none.
int next_event_wd(int fd, uint32_t* mask = nullptr) {
  alignas(inotify_event) char buf[4096];
  for (int i = 0; i < 200; i++) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0) {
      auto* ev = reinterpret_cast<inotify_event*>(buf);
      if (mask) *mask = ev->mask;
      return ev->wd;
    }
    usleep(1000);
  }
  return -1;
}

void touch(const std::string& path) {
  int fd = open(path.c_str(), O_CREAT | O_WRONLY, 0644);
  if (fd >= 0) close(fd);
}

TEST(Inotify, WatchesComeBackWithTheirWds) {
  TempDir tmp;
  std::string a = tmp.make_dir("a"), b = tmp.make_dir("b"), c = tmp.make_dir("c");
  std::string file = tmp.path + "/file";
  touch(file);
  std::string link = tmp.path + "/link";
  ASSERT_EQ(symlink(file.c_str(), link.c_str()), 0);
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(inotify_add_watch(fd, a.c_str(), IN_CREATE), 1);
  for (int i = 0; i < 5; i++) {  // wds 2..6 taken and released
    int wd = inotify_add_watch(fd, b.c_str(), IN_CREATE);
    ASSERT_EQ(wd, 2 + i);
    ASSERT_EQ(inotify_rm_watch(fd, wd), 0);
  }
  ASSERT_EQ(inotify_add_watch(fd, c.c_str(), IN_CREATE | IN_DELETE | IN_EXCL_UNLINK), 7);
  ASSERT_EQ(inotify_add_watch(fd, file.c_str(), IN_ATTRIB | IN_ONESHOT), 8);
  ASSERT_EQ(inotify_add_watch(fd, link.c_str(), IN_ATTRIB | IN_DONT_FOLLOW), 9);

  ByteWriter extra;
  MessageString err;
  ASSERT_TRUE(capture_inotify(fd, extra, err)) << err.c_str();
  LiveRecord rec(fd, image::FdKind::kInotify, extra);
  std::vector<InotifyWatch> watches;
  ASSERT_TRUE(decode_inotify(rec.r, &watches));
  ASSERT_EQ(watches.size(), 4u);
  EXPECT_EQ(watches[0].wd, 1);
  EXPECT_EQ(watches[0].path, a);
  EXPECT_EQ(watches[1].wd, 7);
  EXPECT_EQ(watches[1].path, c);
  EXPECT_EQ(watches[1].mask, IN_CREATE | IN_DELETE | IN_EXCL_UNLINK);
  EXPECT_EQ(watches[2].mask, IN_ATTRIB | IN_ONESHOT);
  EXPECT_EQ(watches[3].path, link);
  EXPECT_EQ(watches[3].mask, IN_ATTRIB | IN_DONT_FOLLOW);
  close(fd);

  std::string why;
  int restored = create_inotify(rec.r, &why);
  ASSERT_GE(restored, 0) << why;
  EXPECT_EQ(fcntl(restored, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
  char ignored[256];
  EXPECT_LT(read(restored, ignored, sizeof(ignored)), 0);  // placeholders left nothing
  touch(c + "/x");
  uint32_t mask = 0;
  EXPECT_EQ(next_event_wd(restored, &mask), 7);
  EXPECT_EQ(mask, static_cast<uint32_t>(IN_CREATE));
  touch(a + "/y");
  EXPECT_EQ(next_event_wd(restored), 1);
  chmod(file.c_str(), 0600);
  EXPECT_EQ(next_event_wd(restored), 8);
  // The next watch added gets the number after the highest.
  EXPECT_EQ(inotify_add_watch(restored, b.c_str(), IN_CREATE), 10);
  close(restored);
}

TEST(Inotify, UnresolvableWatchFailsNamingIt) {
  int fd = inotify_init1(IN_CLOEXEC);
  ASSERT_GE(fd, 0);
  // /proc has no file handles.
  ASSERT_EQ(inotify_add_watch(fd, "/proc/self", IN_ACCESS), 1);
  ByteWriter extra;
  MessageString err;
  EXPECT_FALSE(capture_inotify(fd, extra, err));
  std::string msg(err.view());
  EXPECT_NE(msg.find("fd " + std::to_string(fd) + " (inotify)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("wd 1"), std::string::npos) << msg;
  close(fd);
}

}  // namespace
}  // namespace ckpt
