// A pipe whose far end is closed everywhere at the checkpoint (a shell's
// `echo` that wrote into the pipe and exited): capture records it, and the
// restart recreates the pipe with its bytes and the far end still closed,
// instead of taking it for a pipe to outside.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "gtest/gtest.h"
#include "pipe_restore.h"
#include "plugins/fd/fd_capture_ops.h"
#include "tests/unit/fd_record_helper.h"

namespace ckpt {

extern const FdCaptureOps kPipeCaptureOps;

namespace {

using test::LiveRecord;

// The record capture makes of `fd`, an end of a pipe.
LiveRecord capture_end(int fd, ByteWriter& extra) {
  FdFacts f{};
  f.fd = fd;
  fstat(fd, &f.st);
  f.flags = static_cast<uint32_t>(fcntl(fd, F_GETFL));
  f.kind = image::FdKind::kPipe;
  char link[256];
  ssize_t n = readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), link, sizeof(link) - 1);
  f.target.append(std::string_view(link, n > 0 ? static_cast<size_t>(n) : 0));
  MessageString err;
  EXPECT_TRUE(kPipeCaptureOps.capture(f, nullptr, extra, err));
  return LiveRecord(fd, image::FdKind::kPipe, extra);
}

// The restart's descriptor for the one end `rec` of its pipe.
int restore_end(const LiveRecord& rec, const PipeEnd& end) {
  PipeTable table;
  table.note(end);
  std::string err;
  int fd = table.open_end(rec.r, end, &err);
  EXPECT_GE(fd, 0) << err;
  EXPECT_TRUE(table.finish(&err)) << err;
  return fd;
}

std::string read_all(int fd) {
  std::string got;
  char buf[64];
  for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) got.append(buf, static_cast<size_t>(n));
  return got;
}

TEST(PipeFarEnd, ReaderWhoseWriterExitedGetsTheBytesThenEndOfFile) {
  int ends[2];
  ASSERT_EQ(pipe(ends), 0);
  ASSERT_EQ(write(ends[1], "sys 6 43\n", 9), 9);
  close(ends[1]);
  ByteWriter extra;
  LiveRecord rec = capture_end(ends[0], extra);
  PipeEnd end;
  ASSERT_TRUE(decode_pipe_end(rec.r, &end));
  EXPECT_TRUE(end.far_end_closed);
  EXPECT_EQ(end.data, "sys 6 43\n");
  close(ends[0]);

  int fd = restore_end(rec, end);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(read_all(fd), "sys 6 43\n");  // then end of file, not a hang
  close(fd);
}

TEST(PipeFarEnd, WriterWhoseReaderExitedGetsEpipe) {
  int ends[2];
  ASSERT_EQ(pipe(ends), 0);
  close(ends[0]);
  ByteWriter extra;
  LiveRecord rec = capture_end(ends[1], extra);
  PipeEnd end;
  ASSERT_TRUE(decode_pipe_end(rec.r, &end));
  EXPECT_TRUE(end.far_end_closed);
  close(ends[1]);

  int fd = restore_end(rec, end);
  ASSERT_GE(fd, 0);
  signal(SIGPIPE, SIG_IGN);
  EXPECT_EQ(write(fd, "x", 1), -1);
  EXPECT_EQ(errno, EPIPE);
  signal(SIGPIPE, SIG_DFL);
  close(fd);
}

TEST(PipeFarEnd, OpenFarEndIsNotClosed) {
  int ends[2];
  ASSERT_EQ(pipe(ends), 0);
  ByteWriter extra;
  LiveRecord rec = capture_end(ends[0], extra);
  PipeEnd end;
  ASSERT_TRUE(decode_pipe_end(rec.r, &end));
  EXPECT_FALSE(end.far_end_closed);
  close(ends[0]);
  close(ends[1]);
}

}  // namespace
}  // namespace ckpt
