// parse_maps_line / for_each_map on the live /proc/self/maps and on edge
// cases: deleted files, [vvar_vclock], paths with spaces, malformed lines.
#include <sys/mman.h>

#include <fstream>
#include <sstream>
#include <string>

#include "ckpt/maps.h"
#include "gtest/gtest.h"

namespace ckpt {
namespace {

std::string read_self_maps() {
  std::ifstream in("/proc/self/maps");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Maps, ParsesLiveMaps) {
  std::string text = read_self_maps();
  ASSERT_FALSE(text.empty());
  int lines = 0;
  bool stack = false, code = false;
  uint64_t prev_end = 0;
  auto here = reinterpret_cast<uint64_t>(&read_self_maps);
  ASSERT_TRUE(for_each_map(text, [&](const MapEntry& e) {
    lines++;
    EXPECT_LT(e.start, e.end);
    EXPECT_EQ(e.start % 4096, 0u);
    EXPECT_GE(e.start, prev_end);  // sorted, non-overlapping
    prev_end = e.end;
    if (e.path == "[stack]") {
      stack = true;
      EXPECT_TRUE(e.prot & PROT_WRITE);
    }
    if (here >= e.start && here < e.end) {
      code = true;
      EXPECT_TRUE(e.prot & PROT_EXEC);
      EXPECT_FALSE(e.path.empty());
      EXPECT_NE(e.inode, 0u);
    }
  }));
  EXPECT_EQ(static_cast<size_t>(lines), std::count(text.begin(), text.end(), '\n'));
  EXPECT_TRUE(stack);
  EXPECT_TRUE(code);
}

TEST(Maps, AnonymousPrivate) {
  MapEntry e;
  ASSERT_TRUE(parse_maps_line("7f1c2a000000-7f1c2a021000 rw-p 00000000 00:00 0 ", e));
  EXPECT_EQ(e.start, 0x7f1c2a000000u);
  EXPECT_EQ(e.end, 0x7f1c2a021000u);
  EXPECT_EQ(e.size(), 0x21000u);
  EXPECT_EQ(e.prot, unsigned(PROT_READ | PROT_WRITE));
  EXPECT_FALSE(e.shared);
  EXPECT_TRUE(e.path.empty());
  EXPECT_FALSE(e.deleted);
}

TEST(Maps, FileSharedWithDevice) {
  MapEntry e;
  ASSERT_TRUE(parse_maps_line(
      "7f0000001000-7f0000003000 r-xs 0001a000 fd:01 1835029                    /usr/lib/libc.so.6",
      e));
  EXPECT_EQ(e.prot, unsigned(PROT_READ | PROT_EXEC));
  EXPECT_TRUE(e.shared);
  EXPECT_EQ(e.offset, 0x1a000u);
  EXPECT_EQ(e.dev_major, 0xfdu);
  EXPECT_EQ(e.dev_minor, 1u);
  EXPECT_EQ(e.inode, 1835029u);
  EXPECT_EQ(e.path, "/usr/lib/libc.so.6");
}

TEST(Maps, DeletedFile) {
  MapEntry e;
  ASSERT_TRUE(parse_maps_line(
      "7f0000000000-7f0000001000 rw-s 00000000 00:05 42   /dev/shm/seg (deleted)", e));
  EXPECT_EQ(e.path, "/dev/shm/seg");
  EXPECT_TRUE(e.deleted);
  // A file really named "(deleted)" is not mistaken for a deleted one.
  ASSERT_TRUE(parse_maps_line("1000-2000 r--p 00000000 08:01 7 (deleted)", e));
  EXPECT_EQ(e.path, "(deleted)");
  EXPECT_FALSE(e.deleted);
}

TEST(Maps, SpecialRegions) {
  MapEntry e;
  for (std::string_view name : {"[vvar]", "[vvar_vclock]", "[vdso]", "[heap]", "[stack]"}) {
    std::string line = "7ffd5a1f0000-7ffd5a1f4000 r--p 00000000 00:00 0                          ";
    line += name;
    ASSERT_TRUE(parse_maps_line(line, e)) << line;
    EXPECT_EQ(e.path, name);
  }
  ASSERT_TRUE(
      parse_maps_line("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]", e));
  EXPECT_EQ(e.start, 0xffffffffff600000u);
  EXPECT_EQ(e.prot, unsigned(PROT_EXEC));
  EXPECT_EQ(e.path, "[vsyscall]");
}

TEST(Maps, PathWithSpaces) {
  MapEntry e;
  ASSERT_TRUE(parse_maps_line("1000-3000 r--p 00002000 08:01 99   /tmp/my dir/lib two.so", e));
  EXPECT_EQ(e.path, "/tmp/my dir/lib two.so");
  ASSERT_TRUE(parse_maps_line("1000-3000 r--p 00002000 08:01 99   /tmp/a b (deleted)", e));
  EXPECT_EQ(e.path, "/tmp/a b");
  EXPECT_TRUE(e.deleted);
}

TEST(Maps, MalformedLines) {
  MapEntry e;
  for (std::string_view bad : {
           "",
           "garbage",
           "1000-",
           "1000-2000",
           "1000-2000 rw-p",
           "1000-2000 rw- 00000000 00:00 0",
           "1000 2000 rw-p 00000000 00:00 0",
           "2000-1000 rw-p 00000000 00:00 0",  // end before start
           "1000-1000 rw-p 00000000 00:00 0",  // empty
           "10g0-2000 rw-p 00000000 00:00 0",
           "1000-2000 rw-p 00000000 0000 0",
           "1000-2000 rw-p 00000000 00:00",
           "1000-2000 rw-p 00000000 00:00 x",
           "-2000 rw-p 00000000 00:00 0",
       }) {
    EXPECT_FALSE(parse_maps_line(bad, e)) << "'" << bad << "'";
  }
  std::string text = "1000-2000 rw-p 00000000 00:00 0\nnot a line\n3000-4000 r--p 00000000 00:00 0";
  int n = 0;
  EXPECT_FALSE(for_each_map(text, [&](const MapEntry&) { n++; }));
  EXPECT_EQ(n, 2);
}

}  // namespace
}  // namespace ckpt
