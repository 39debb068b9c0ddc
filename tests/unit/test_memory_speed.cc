// What makes full checkpoints and restarts fast without changing the
// format: write-behind in the image writer (an image larger than several
// write-behind windows, written to a real file, reads back byte for byte),
// the restart's read-ahead, and the split of the CPUs between the restored
// processes' decompression threads.
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/chunk_codec.h"
#include "common/image_prefetch.h"
#include "common/image_reader.h"
#include "common/image_writer.h"
#include "common/write_behind.h"
#include "gtest/gtest.h"
#include "launcher/restart/decompression_workers.h"

namespace ckpt::image {
namespace {

constexpr uint32_t kRegionPages = 40 * kChunkPages;  // 40 MiB, 5 write-behind windows

// A minimal image: Process, MemRegions (one anonymous region), its chunks
// stored raw (level 0: the image is as large as the data), End.
bool write_big_image(int fd, const std::vector<uint8_t>& data) {
  ImageWriter w(fd);
  ByteWriter scratch;
  if (!w.write_header(1)) return false;
  ProcessRecord p;  // what the reader needs of it: present and well formed
  p.vpid = 1;
  p.encode(scratch);
  if (!w.add_section(Tag::kProcess, scratch)) return false;
  RegionRecord r;
  r.start = 0x7f0000000000;
  r.end = r.start + uint64_t{kRegionPages} * kPageSize;
  r.prot = 3;
  r.kind = RegionKind::kAnon;
  r.has_content = 1;
  if (!w.add_records(Tag::kMemRegions, &r, 1, scratch)) return false;
  ChunkEncoder enc;
  if (!enc.init(0)) return false;
  std::vector<uint8_t> buf(kChunkHeaderSize + size_t{kChunkPages} * kPageSize);
  for (uint32_t first = 0; first < kRegionPages; first += kChunkPages) {
    ByteWriter out(buf.data(), buf.size());
    if (!enc.encode(0, first, data.data() + size_t{first} * kPageSize, kChunkPages, nullptr, out))
      return false;
    if (!w.add_section(Tag::kMemChunk, out)) return false;
  }
  return w.finish();
}

TEST(WriteBehind, ImageOfManyWindowsReadsBackExactly) {
  std::vector<uint8_t> data(size_t{kRegionPages} * kPageSize);
  std::mt19937_64 rng(5);
  for (size_t i = 0; i < data.size(); i += 8) {
    uint64_t v = (i / kPageSize) % 3 == 0 ? 0 : rng();  // every third page zero
    std::memcpy(data.data() + i, &v, 8);
  }
  char path[] = "/var/tmp/ckpt_test_write_behind_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(write_big_image(fd, data));
  ASSERT_EQ(fsync(fd), 0);
  close(fd);
  {
    ImagePrefetch prefetch(
        {path, "/nonexistent/image"});  // a missing file is read_image's to report
    LoadedImage img;
    std::string err;
    ASSERT_TRUE(read_image(path, true, &img, &err)) << err;
    prefetch.wait();
    EXPECT_EQ(img.chunks.size(), size_t{kRegionPages / kChunkPages});
    EXPECT_GT(img.file_size, 3 * kWriteBehindBytes);
    std::vector<uint8_t> back(data.size());
    ASSERT_TRUE(load_memory(
        img, [&](uint32_t) { return back.data(); }, 3, &err))
        << err;
    EXPECT_EQ(std::memcmp(back.data(), data.data(), data.size()), 0);
  }
  unlink(path);
}

LoadedImage image_storing(uint64_t bytes, size_t chunks) {
  LoadedImage img;
  img.end.stored_bytes = bytes;
  img.chunks.resize(chunks);
  return img;
}

unsigned cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  return sched_getaffinity(0, sizeof(set), &set) == 0 ? static_cast<unsigned>(CPU_COUNT(&set)) : 1;
}

TEST(DecompressionWorkers, SplitTheCpusByStoredMemory) {
  std::vector<LoadedImage> images;
  images.push_back(image_storing(1ull << 30, 1024));  // the big one
  images.push_back(image_storing(1ull << 20, 1));
  images.push_back(image_storing(0, 0));  // nothing stored
  double big = memory_share(images, 0);
  EXPECT_GT(big, 0.99);
  EXPECT_LT(memory_share(images, 1), 0.01);
  EXPECT_EQ(memory_share(images, 2), 0.0);
  // Every usable CPU for the process that holds nearly all the memory...
  EXPECT_EQ(decompression_workers(images[0], big), cpus());
  // ...and one thread for a process with little memory or few chunks.
  EXPECT_EQ(decompression_workers(images[1], memory_share(images, 1)), 1u);
  EXPECT_EQ(decompression_workers(images[2], memory_share(images, 2)), 1u);
  EXPECT_EQ(decompression_workers(image_storing(1ull << 30, 3), 1.0), 1u);
}

TEST(DecompressionWorkers, ImagesWithoutMemoryShareEqually) {
  std::vector<LoadedImage> images(4);
  for (size_t i = 0; i < images.size(); i++) EXPECT_DOUBLE_EQ(memory_share(images, i), 0.25);
}

}  // namespace
}  // namespace ckpt::image
