// Named FIFOs and pipe content: tee_pipe_content copies in-flight bytes
// without consuming them; capture_fifo + FifoTable reopen a FIFO's ends with
// their flags and its bytes, recreating a FIFO that is gone.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "fifo_capture.h"
#include "fifo_restore.h"
#include "gtest/gtest.h"
#include "pipe_content.h"
#include "tests/unit/fd_record_helper.h"

namespace ckpt {
namespace {

using test::LiveRecord;

int pending(int fd) {
  int n = -1;
  ioctl(fd, FIONREAD, &n);
  return n;
}

std::string content(const ByteWriter& w, size_t at = 0) {
  ByteReader in(w.data() + at, w.size() - at);
  return std::string(in.str());
}

TEST(PipeContent, TeeLeavesThePipeAsItWas) {
  int ends[2];
  ASSERT_EQ(pipe(ends), 0);
  ByteWriter out;
  EXPECT_TRUE(tee_pipe_content(ends[0], true, out));
  EXPECT_EQ(content(out), "");
  std::string big(100000, 'q');
  fcntl(ends[1], F_SETPIPE_SZ, 1 << 20);
  ASSERT_EQ(write(ends[1], big.data(), big.size()), static_cast<ssize_t>(big.size()));
  out.clear();
  EXPECT_TRUE(tee_pipe_content(ends[1], false, out));  // through the write end
  EXPECT_EQ(content(out), big);
  out.clear();
  EXPECT_TRUE(tee_pipe_content(ends[0], true, out));
  EXPECT_EQ(content(out), big);
  EXPECT_EQ(pending(ends[0]), static_cast<int>(big.size()));
  close(ends[0]);
  close(ends[1]);
}

struct Fifo {
  std::string dir, path;
  Fifo() {
    char tmpl[] = "/tmp/ckpt_fifo_XXXXXX";
    dir = mkdtemp(tmpl);
    path = dir + "/f";
    mkfifo(path.c_str(), 0640);
  }
  ~Fifo() { std::system(("rm -rf " + dir).c_str()); }
};

struct Capture {
  ByteWriter extra;
  MessageString err;
  bool ok;
  Capture(int fd) {
    struct stat st;
    fstat(fd, &st);
    char link[4096];
    ssize_t n = readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), link, sizeof(link));
    std::string_view target(link, n > 0 ? static_cast<size_t>(n) : 0);
    EXPECT_TRUE(is_named_fifo(st, target));
    ok = capture_fifo(fd, st, static_cast<uint32_t>(fcntl(fd, F_GETFL)), target, extra, err);
  }
};

TEST(Fifo, EndsAndBytesInFlightComeBack) {
  Fifo f;
  int reader = open(f.path.c_str(), O_RDONLY | O_NONBLOCK);
  int writer = open(f.path.c_str(), O_WRONLY);
  ASSERT_GE(reader, 0);
  ASSERT_GE(writer, 0);
  ASSERT_EQ(write(writer, "fifo data", 9), 9);
  Capture cr(reader), cw(writer);
  ASSERT_TRUE(cr.ok) << cr.err.c_str();
  ASSERT_TRUE(cw.ok) << cw.err.c_str();
  EXPECT_EQ(pending(reader), 9);
  LiveRecord rr(reader, image::FdKind::kFifo, cr.extra), rw(writer, image::FdKind::kFifo, cw.extra);
  FifoState s;
  ASSERT_TRUE(decode_fifo(rw.r, &s));
  EXPECT_EQ(s.data, "fifo data");
  EXPECT_FALSE(s.deleted);
  EXPECT_GT(s.pipe_size, 0u);
  close(reader);
  close(writer);
  unlink(f.path.c_str());  // gone at restart: made again

  std::string err;
  FifoTable table;
  int new_writer = table.open_for(rw.r, &err);
  ASSERT_GE(new_writer, 0) << err;
  int new_reader = table.open_for(rr.r, &err);
  ASSERT_GE(new_reader, 0) << err;
  table.release();
  struct stat st;
  ASSERT_EQ(stat(f.path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_EQ(fcntl(new_reader, F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_RDONLY | O_NONBLOCK);
  EXPECT_EQ(fcntl(new_writer, F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_WRONLY);
  char buf[32] = {};
  ASSERT_EQ(read(new_reader, buf, sizeof(buf)), 9);  // once, not once per record
  EXPECT_EQ(std::string(buf, 9), "fifo data");
  ASSERT_EQ(write(new_writer, "more", 4), 4);
  ASSERT_EQ(read(new_reader, buf, sizeof(buf)), 4);
  close(new_reader);
  close(new_writer);
}

TEST(Fifo, DeletedFifoComesBackDeleted) {
  Fifo f;
  int rw = open(f.path.c_str(), O_RDWR);
  ASSERT_GE(rw, 0);
  ASSERT_EQ(write(rw, "abc", 3), 3);
  unlink(f.path.c_str());
  Capture c(rw);
  ASSERT_TRUE(c.ok) << c.err.c_str();
  LiveRecord rec(rw, image::FdKind::kFifo, c.extra);
  FifoState s;
  ASSERT_TRUE(decode_fifo(rec.r, &s));
  EXPECT_TRUE(s.deleted);
  close(rw);
  std::string err;
  FifoTable table;
  int fd = table.open_for(rec.r, &err);
  ASSERT_GE(fd, 0) << err;
  table.release();
  EXPECT_NE(access(f.path.c_str(), F_OK), 0);
  char buf[8];
  ASSERT_EQ(read(fd, buf, sizeof(buf)), 3);
  close(fd);
}

}  // namespace
}  // namespace ckpt
