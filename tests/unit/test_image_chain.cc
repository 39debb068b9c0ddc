// Incremental image chains (common/image_chain.h, ckpt/image_lineage.h): a
// full parent and an incremental child written with ImageWriter, read
// back, linked and resolved page by page; a missing or replaced parent is
// an error naming it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "common/chunk_codec.h"
#include "common/image_chain.h"
#include "common/image_writer.h"

namespace ckpt::image {
namespace {

constexpr uint64_t kBase = 0x7f0000000000;
constexpr uint32_t kPages = 8;

std::vector<uint8_t> pages_of(uint8_t seed) {
  std::vector<uint8_t> v(kPages * kPageSize);
  for (uint32_t p = 0; p < kPages; p++) std::memset(&v[p * kPageSize], seed + p, kPageSize);
  return v;
}

// One image of one anonymous region: `stored` pages from `mem`, the others
// kept (`kept`) or zero. A parent (generation - 1) when `parent_path` is set.
void write_one(const std::string& path, uint64_t generation, const std::vector<uint8_t>& mem,
               uint64_t stored, uint64_t kept, const std::string& parent_path,
               uint32_t parent_crc) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  ImageWriter w(fd);
  ByteWriter s;
  ASSERT_TRUE(w.write_header(generation));
  ProcessRecord proc;
  proc.vpid = 7;
  for (auto& l : proc.rlimits) l = {RLIM_INFINITY, RLIM_INFINITY};
  proc.encode(s);
  ASSERT_TRUE(w.add_section(Tag::kProcess, s));
  LineageRecord lin;
  lin.tracking = Tracking::kUffdWp;
  lin.parent_generation = parent_path.empty() ? 0 : generation - 1;
  lin.parent_link_crc = parent_crc;
  lin.chain_length = parent_path.empty() ? 1 : 2;
  lin.parent_path = parent_path;
  s.clear();
  lin.encode(s);
  ASSERT_TRUE(w.add_section(static_cast<Tag>(kTagLineage), s));
  RegionRecord r;
  r.start = kBase;
  r.end = kBase + kPages * kPageSize;
  r.prot = 3;
  r.has_content = parent_path.empty() ? kContentFull : kContentDelta;
  ASSERT_TRUE(w.add_records(Tag::kMemRegions, &r, 1, s));
  if (!parent_path.empty()) {
    s.clear();
    s.put_u32(0);
    s.put_u64(kPages);
    s.put_u64(kept);
    ASSERT_TRUE(w.add_section(static_cast<Tag>(kTagKeptPages), s));
  }
  ChunkEncoder enc;
  ASSERT_TRUE(enc.init(1));
  uint64_t present[kChunkPages / 64] = {stored};
  s.clear();
  ASSERT_TRUE(enc.encode(0, 0, mem.data(), kPages, present, s));
  ASSERT_TRUE(w.add_section(Tag::kMemChunk, s));
  ASSERT_TRUE(w.finish());
  ::close(fd);
}

struct Chain : ::testing::Test {
  void SetUp() override {
    char tmpl[] = "/tmp/ckpt_test_chain_XXXXXX";
    dir = mkdtemp(tmpl);
    ::mkdir((dir + "/.ckpt_gen_1").c_str(), 0700);
    ::mkdir((dir + "/.ckpt_gen_2").c_str(), 0700);
    parent = dir + "/.ckpt_gen_1/ckpt_app_7.img";
    child = dir + "/.ckpt_gen_2/ckpt_app_7.img";
    write_one(parent, 1, pages_of(10), 0xff, 0, "", 0);
    int fd = ::open(parent.c_str(), O_RDONLY);
    uint64_t gen = 0;
    ASSERT_TRUE(image_link_crc(fd, &parent_crc, &gen));
    ::close(fd);
    EXPECT_EQ(gen, 1u);
    // Pages 0-1 written since (stored), 2-5 the parent's, 6-7 discarded (zero).
    write_one(child, 2, pages_of(100), 0x03, 0x3c, "../.ckpt_gen_1/ckpt_app_7.img", parent_crc);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  std::string dir, parent, child;
  uint32_t parent_crc = 0;
};

TEST_F(Chain, ResolvesEveryPage) {
  LoadedImage img, p;
  std::string err;
  ASSERT_TRUE(read_image(child, true, &img, &err)) << err;
  ASSERT_TRUE(read_image(parent, true, &p, &err)) << err;
  EXPECT_EQ(p.link_crc, parent_crc);  // the reader and the runtime agree
  EXPECT_EQ(parent_path(img), parent);
  std::vector<LoadedImage> ancestors;
  ASSERT_TRUE(read_ancestors(img, true, &ancestors, &err)) << err;
  ASSERT_EQ(ancestors.size(), 1u);
  std::vector<uint8_t> mem(kPages * kPageSize, 0);
  auto dest = [&](uint32_t) { return mem.data(); };
  ASSERT_TRUE(load_memory(img, dest, 2, &err)) << err;
  ASSERT_TRUE(load_kept_pages(img, ancestors, dest, 2, &err)) << err;
  for (uint32_t page = 0; page < kPages; page++) {
    uint8_t want = page < 2 ? 100 + page : page < 6 ? 10 + page : 0;
    EXPECT_EQ(mem[page * kPageSize], want) << "page " << page;
    EXPECT_EQ(mem[page * kPageSize + kPageSize - 1], want) << "page " << page;
  }
  EXPECT_EQ(chain_generations(child), (std::vector<uint64_t>{2, 1}));
}

TEST_F(Chain, MissingParentIsNamed) {
  ::unlink(parent.c_str());
  LoadedImage img;
  std::vector<LoadedImage> ancestors;
  std::string err;
  ASSERT_TRUE(read_image(child, false, &img, &err)) << err;
  EXPECT_FALSE(read_ancestors(img, false, &ancestors, &err));
  EXPECT_NE(err.find("parent image " + parent + " (generation 1)"), std::string::npos) << err;
  EXPECT_NE(err.find("missing"), std::string::npos) << err;
}

TEST_F(Chain, ReplacedParentIsRefused) {
  write_one(parent, 1, pages_of(50), 0xff, 0, "", 0);  // same generation, other content
  LoadedImage img;
  std::vector<LoadedImage> ancestors;
  std::string err;
  ASSERT_TRUE(read_image(child, false, &img, &err)) << err;
  EXPECT_FALSE(read_ancestors(img, false, &ancestors, &err));
  EXPECT_NE(err.find("link checksum differs"), std::string::npos) << err;
}

TEST_F(Chain, KeptPagesMustMatchItsRegion) {
  // A delta region whose KeptPages section is missing: the child written
  // as if full, but with has_content 3, is refused by the reader.
  std::string bad = dir + "/.ckpt_gen_2/bad.img";
  int fd = ::open(bad.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ImageWriter w(fd);
  ByteWriter s;
  ASSERT_TRUE(w.write_header(3));
  ProcessRecord proc;
  proc.encode(s);
  ASSERT_TRUE(w.add_section(Tag::kProcess, s));
  RegionRecord r;
  r.start = kBase;
  r.end = kBase + kPageSize;
  r.has_content = kContentDelta;
  ASSERT_TRUE(w.add_records(Tag::kMemRegions, &r, 1, s));
  ASSERT_TRUE(w.finish());
  ::close(fd);
  LoadedImage img;
  std::string err;
  EXPECT_FALSE(read_image(bad, false, &img, &err));
  EXPECT_NE(err.find("KeptPages"), std::string::npos) << err;
}

}  // namespace
}  // namespace ckpt::image
