// DirectImageSink: an image whose writer hands over to the sink midway (at
// an offset that is not block-aligned) holds the same bytes as one written
// plainly, and both writers' link checksums are the files'; a file that refuses O_DIRECT keeps its ordinary writes; a write
// the file refuses (past RLIMIT_FSIZE) fails the image with its errno.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "ckpt/image_lineage.h"
#include "common/image_writer.h"
#include "runtime/core/direct_image_sink.h"

// The raw threads register with the runtime's thread list; none here.
namespace ckpt {
void add_runtime_tid(int32_t) {}
void remove_runtime_tid(int32_t) {}
}  // namespace ckpt

namespace {

using ckpt::DirectImageSink;
using ckpt::image::ImageWriter;
using ckpt::image::Tag;

// A file in a directory on a disk file system (O_DIRECT is what it tests).
struct DiskFile {
  DiskFile() {
    char tmpl[] = "/var/tmp/ckpt_direct_XXXXXX";
    fd = mkstemp(tmpl);
    path = tmpl;
  }
  ~DiskFile() {
    if (fd >= 0) close(fd);
    unlink(path.c_str());
  }
  std::string bytes() const {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  int fd = -1;
  std::string path;
};

// Sections of awkward sizes: small, odd, larger than a slot.
std::vector<std::vector<uint8_t>> payloads() {
  std::mt19937 rng(11);
  std::vector<size_t> sizes = {13,
                               4096,
                               1,
                               700000,
                               DirectImageSink::kSlotBytes + 17,
                               99,
                               5000000,
                               4095,
                               3 * DirectImageSink::kSlotBytes,
                               12345};
  std::vector<std::vector<uint8_t>> out;
  for (size_t n : sizes) {
    std::vector<uint8_t> p(n);
    for (auto& b : p) b = static_cast<uint8_t>(rng());
    out.push_back(std::move(p));
  }
  return out;
}

// Writes the sections; hands over to `sink` (if any) after the third one.
bool write_sections(ImageWriter& w, DirectImageSink* sink, bool* direct) {
  if (!w.write_header(3)) return false;
  auto parts = payloads();
  for (size_t i = 0; i < parts.size(); i++) {
    if (i == 3 && sink) *direct = sink->start(w.fd(), w.bytes_written(), w.partial_block());
    if (*direct) w.redirect(sink);
    if (!w.add_section(Tag::kFds, parts[i].data(), parts[i].size())) return false;
  }
  return w.finish();
}

TEST(DirectImageSink, WritesTheSameBytesAsThePageCache) {
  DiskFile plain, direct;
  ASSERT_GE(plain.fd, 0);
  ASSERT_GE(direct.fd, 0);
  ImageWriter a(plain.fd);
  bool unused = false;
  ASSERT_TRUE(write_sections(a, nullptr, &unused));
  ImageWriter b(direct.fd);
  DirectImageSink sink;
  bool went_direct = false;
  ASSERT_TRUE(write_sections(b, &sink, &went_direct)) << b.error();
  EXPECT_TRUE(went_direct) << "/var/tmp refuses O_DIRECT";
  EXPECT_FALSE(sink.refused());
  EXPECT_EQ(a.bytes_written(), b.bytes_written());
  EXPECT_EQ(lseek(direct.fd, 0, SEEK_END), static_cast<off_t>(b.bytes_written()));
  // The same bytes after the header (which holds its creation time).
  const std::string x = plain.bytes(), y = direct.bytes();
  const size_t header = sizeof(ckpt::image::FileHeader);
  ASSERT_EQ(x.size(), y.size());
  EXPECT_TRUE(x.compare(header, std::string::npos, y, header, std::string::npos) == 0);
  EXPECT_EQ(fcntl(direct.fd, F_GETFL) & O_DIRECT, 0) << "O_DIRECT left on after finish()";
  // The writer's own link checksum is the one a reader computes from the file.
  for (auto* f : {&plain, &direct}) {
    uint32_t crc = 0;
    uint64_t generation = 0;
    ASSERT_TRUE(ckpt::image::image_link_crc(f->fd, &crc, &generation));
    EXPECT_EQ(crc, (f == &plain ? a : b).link_crc());
    EXPECT_EQ(generation, 3u);
  }
}

TEST(DirectImageSink, AFileWithoutDirectIoKeepsItsWrites) {
  int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  const int flags = fcntl(fd, F_GETFL);
  DirectImageSink sink;
  uint8_t none[1] = {};
  EXPECT_FALSE(sink.start(fd, 0, none));
  EXPECT_EQ(fcntl(fd, F_GETFL), flags);
  close(fd);
}

TEST(DirectImageSink, AWriteTheFileRefusesFailsTheImage) {
  DiskFile f;
  ASSERT_GE(f.fd, 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    signal(SIGXFSZ, SIG_IGN);
    rlimit lim = {3u << 20, 3u << 20};
    setrlimit(RLIMIT_FSIZE, &lim);
    ImageWriter w(f.fd);
    DirectImageSink sink;
    bool direct = false;
    bool ok = write_sections(w, &sink, &direct);
    _exit(!direct ? 2 : ok ? 3 : w.error() == -EFBIG ? 0 : 4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: not direct, 3: no failure, 4: another errno";
}

}  // namespace
