// Image format round trip: ImageWriter + ChunkEncoder write synthetic
// regions (zero, untouched, patterned and random pages), read_image +
// load_memory restore them byte for byte; damaged files give a clear error.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ckpt/crc32c.h"
#include "common/chunk_codec.h"
#include "common/image_reader.h"
#include "common/image_writer.h"
#include "gtest/gtest.h"
#include "zstd.h"

namespace ckpt::image {
namespace {

// An anonymous mapping that unmaps itself.
struct Mapping {
  explicit Mapping(size_t n) : size(n) {
    void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    data = p == MAP_FAILED ? nullptr : static_cast<uint8_t*>(p);
  }
  ~Mapping() {
    if (data) munmap(data, size);
  }
  Mapping(const Mapping&) = delete;
  uint8_t* data;
  size_t size;
};

struct TempFile {
  TempFile() {
    char tmpl[] = "/tmp/ckpt_test_image_XXXXXX";
    fd = mkstemp(tmpl);
    path = tmpl;
  }
  ~TempFile() {
    close(fd);
    unlink(path.c_str());
  }
  std::string contents() const {
    std::string s(lseek(fd, 0, SEEK_END), '\0');
    EXPECT_EQ(pread(fd, s.data(), s.size(), 0), static_cast<ssize_t>(s.size()));
    return s;
  }
  void replace(const std::string& s) const {
    ASSERT_EQ(ftruncate(fd, 0), 0);
    ASSERT_EQ(pwrite(fd, s.data(), s.size(), 0), static_cast<ssize_t>(s.size()));
  }
  int fd;
  std::string path;
};

enum class PageKind { kZero, kAbsent, kPattern, kRandom };

// A region of synthetic memory: `src` as the process had it, `expect` as a
// restore must produce it (absent pages read back as zero).
struct SyntheticRegion {
  SyntheticRegion(size_t pages, uint64_t seed) : src(pages * kPageSize), expect(pages * kPageSize) {
    std::mt19937_64 rng(seed);
    present.assign((pages + 63) / 64, 0);
    for (size_t i = 0; i < pages; i++) {
      auto kind = static_cast<PageKind>(rng() % 4);
      auto* d = reinterpret_cast<double*>(src.data + i * kPageSize);
      if (kind != PageKind::kAbsent) present[i / 64] |= uint64_t{1} << (i % 64);
      if (kind == PageKind::kAbsent) {
        std::memset(d, 0xab, kPageSize);  // must never be read
      } else if (kind == PageKind::kPattern) {
        for (size_t k = 0; k < kPageSize / 8; k++) d[k] = 0.25 * (k % 16);
      } else if (kind == PageKind::kRandom) {
        for (size_t k = 0; k < kPageSize / 8; k++) d[k] = std::ldexp(double(rng() >> 11), -53);
      }
      if (kind != PageKind::kAbsent) std::memcpy(expect.data + i * kPageSize, d, kPageSize);
    }
  }
  size_t pages() const { return src.size / kPageSize; }
  Mapping src, expect;
  std::vector<uint64_t> present;
};

constexpr uint64_t kRegionBase = 0x7f0000000000;

struct ImageSpec {
  std::vector<SyntheticRegion*> regions;
  std::string file_content = "content of an unlinked file\n";
};

// Writes a full image of `spec` to fd; returns false on failure.
// 10.1.2.3 (mapped) and 2001:db8::7.
constexpr char kHostAddressBytes[] =
    "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\x01\x02\x03"
    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x07";

HostAddressesRecord host_addresses_record() {
  HostAddressesRecord r;
  r.count = 2;
  r.addrs = std::string_view(kHostAddressBytes, 32);
  return r;
}

bool write_image(int fd, const ImageSpec& spec, int level) {
  ImageWriter w(fd);
  ByteWriter scratch;
  if (!w.write_header(42)) return false;
  ProcessRecord p;
  p.vpid = 7;
  p.host = "node1";
  p.exe = "/bin/app";
  p.cmdline = std::string_view("app\0-x\0two words", 16);
  p.cwd = "/tmp";
  p.comm = "app";
  for (auto& l : p.rlimits) l = {RLIM_INFINITY, RLIM_INFINITY};
  p.rlimits[7] = {1024, 4096};
  scratch.clear();
  p.encode(scratch);
  if (!w.add_section(Tag::kProcess, scratch)) return false;
  ThreadRecord t[2];
  t[0].vtid = 7;
  t[1].vtid = 8;
  t[1].ctx.rip = 0x1234;
  SignalRecord s;
  s.signo = 2;
  s.handler = 0x401000;
  FdRecord f[2];
  f[0].fd = 3;
  f[0].kind = FdKind::kUnlinked;
  f[0].file_data = 0;
  f[0].path = "/tmp/gone";
  f[1] = f[0];  // a dup of fd 3: shares its description and content
  f[1].fd = 4;
  f[1].shares_with = 3;
  f[1].file_data = -1;
  if (!w.add_records(Tag::kThreads, t, 2, scratch)) return false;
  scratch.clear();
  host_addresses_record().encode(scratch);
  if (!w.add_section(Tag::kHostAddresses, scratch)) return false;
  if (!w.add_records(Tag::kSignals, &s, 1, scratch) || !w.add_records(Tag::kFds, f, 2, scratch))
    return false;
  scratch.clear();
  FileDataHeader fh{0, spec.file_content.size()};
  fh.encode(scratch);
  scratch.put_bytes(spec.file_content.data(), spec.file_content.size());
  if (!w.add_section(Tag::kFileData, scratch)) return false;
  ShmRecord shm[2];
  shm[0].dev = 1;
  shm[0].ino = 13;
  shm[0].kind = ShmKind::kSysV;
  shm[0].size = 20480;
  shm[0].mode = 0600;
  shm[0].key = 0x5e001702;
  shm[0].shmid = 12;
  shm[0].flags = kShmRemoved;
  shm[1].kind = ShmKind::kMemfd;
  shm[1].path = "memfd:x";
  if (!w.add_records(Tag::kShmObjects, shm, 2, scratch)) return false;
  SysvRecord sysv[2];
  sysv[0].kind = SysvKind::kSemaphores;
  sysv[0].id = 7;
  sysv[0].count = 2;
  sysv[0].data = std::string_view("\x01\x00\x05\x00", 4);
  sysv[1].kind = SysvKind::kMessages;
  sysv[1].id = 5;
  sysv[1].key = 0x5f000001;
  sysv[1].mode = 0640;
  sysv[1].count = 1;
  sysv[1].qbytes = 16384;
  sysv[1].data = std::string_view("\x01\0\0\0\x0a\0\0\0\0\0\0\0z", 13);
  if (!w.add_records(Tag::kSysvObjects, sysv, 2, scratch)) return false;

  std::vector<RegionRecord> regions;
  uint64_t at = kRegionBase;
  for (auto* r : spec.regions) {
    RegionRecord rec;
    rec.start = at;
    rec.end = at + r->src.size;
    rec.prot = PROT_READ | PROT_WRITE;
    rec.has_content = 1;
    regions.push_back(rec);
    at = rec.end + (1 << 20);
  }
  RegionRecord vdso;
  vdso.start = at;
  vdso.end = at + 2 * kPageSize;
  vdso.kind = RegionKind::kVdso;
  vdso.path = "[vdso]";
  regions.push_back(vdso);
  if (!w.add_records(Tag::kMemRegions, regions.data(), regions.size(), scratch)) return false;

  ChunkEncoder enc;
  if (!enc.init(level)) return false;
  for (uint32_t ri = 0; ri < spec.regions.size(); ri++) {
    const SyntheticRegion& r = *spec.regions[ri];
    for (size_t first = 0; first < r.pages(); first += kChunkPages) {
      auto n = static_cast<uint32_t>(std::min<size_t>(kChunkPages, r.pages() - first));
      uint64_t present[kChunkPages / 64] = {};
      for (uint32_t i = 0; i < n; i++)
        if ((r.present[(first + i) / 64] >> ((first + i) % 64)) & 1)
          present[i / 64] |= uint64_t{1} << (i % 64);
      scratch.clear();
      if (!enc.encode(ri, first, r.src.data + first * kPageSize, n, present, scratch)) return false;
      if (!w.add_section(Tag::kMemChunk, scratch)) return false;
    }
  }
  EXPECT_EQ(enc.compress_errors(), 0u);
  return w.finish();
}

class ImageRoundTrip : public ::testing::TestWithParam<int> {};

TEST_P(ImageRoundTrip, RestoresEveryByte) {
  SyntheticRegion a(3 * kChunkPages + 5, 1), b(1, 2), c(kChunkPages, 3);
  ImageSpec spec{{&a, &b, &c}};
  TempFile file;
  ASSERT_TRUE(write_image(file.fd, spec, GetParam()));

  if (const char* keep = getenv("CKPT_TEST_KEEP_IMAGE")) {  // a sample for ckpt_info
    TempFile copy;
    copy.path = keep;
    copy.fd = open(keep, O_RDWR | O_CREAT | O_TRUNC, 0644);
    copy.replace(file.contents());
    copy.path = "";
  }
  LoadedImage img;
  std::string err;
  ASSERT_TRUE(read_image(file.path, true, &img, &err)) << err;
  EXPECT_TRUE(img.warnings.empty());
  EXPECT_EQ(img.header.generation, 42u);
  EXPECT_EQ(std::string(img.header.build_id), build_id());
  EXPECT_EQ(img.process.vpid, 7);
  EXPECT_EQ(img.process.cmdline, std::string_view("app\0-x\0two words", 16));
  EXPECT_EQ(img.process.rlimits[7].cur, 1024u);
  ASSERT_EQ(img.threads.size(), 2u);
  EXPECT_EQ(img.threads[1].ctx.rip, 0x1234u);
  ASSERT_EQ(img.host_addresses.size(), 2u);
  EXPECT_EQ(std::memcmp(&img.host_addresses[0], kHostAddressBytes, 16), 0);
  EXPECT_EQ(std::memcmp(&img.host_addresses[1], kHostAddressBytes + 16, 16), 0);
  ASSERT_EQ(img.signals.size(), 1u);
  ASSERT_EQ(img.fds.size(), 2u);
  EXPECT_EQ(img.fds[0].path, "/tmp/gone");
  EXPECT_EQ(img.fds[1].shares_with, 3);
  ASSERT_EQ(img.shm_objects.size(), 2u);
  EXPECT_EQ(img.shm_objects[0].kind, ShmKind::kSysV);
  EXPECT_EQ(img.shm_objects[0].ino, 13u);
  EXPECT_EQ(img.shm_objects[0].size, 20480u);
  EXPECT_EQ(img.shm_objects[0].mode, 0600u);
  EXPECT_EQ(img.shm_objects[0].key, 0x5e001702);
  EXPECT_EQ(img.shm_objects[0].shmid, 12);
  EXPECT_EQ(img.shm_objects[0].flags, kShmRemoved);
  EXPECT_EQ(img.shm_objects[1].path, "memfd:x");
  ASSERT_EQ(img.sysv_objects.size(), 2u);
  EXPECT_EQ(img.sysv_objects[0].kind, SysvKind::kSemaphores);
  EXPECT_EQ(img.sysv_objects[0].id, 7);
  EXPECT_EQ(img.sysv_objects[0].data, std::string_view("\x01\x00\x05\x00", 4));
  EXPECT_EQ(img.sysv_objects[1].kind, SysvKind::kMessages);
  EXPECT_EQ(img.sysv_objects[1].key, 0x5f000001);
  EXPECT_EQ(img.sysv_objects[1].mode, 0640u);
  EXPECT_EQ(img.sysv_objects[1].count, 1u);
  EXPECT_EQ(img.sysv_objects[1].qbytes, 16384u);
  EXPECT_EQ(img.sysv_objects[1].data.size(), 13u);
  ASSERT_EQ(img.regions.size(), 4u);
  EXPECT_EQ(img.regions[3].path, "[vdso]");
  EXPECT_EQ(img.chunks.size(), 4u + 1u + 1u);
  EXPECT_EQ(img.end.memory_bytes, a.src.size + b.src.size + c.src.size);

  std::string content;
  ASSERT_TRUE(read_file_data(img, 0, &content, &err)) << err;
  EXPECT_EQ(content, spec.file_content);
  EXPECT_FALSE(read_file_data(img, 5, &content, &err));

  Mapping ra(a.src.size), rb(b.src.size), rc(c.src.size);
  uint8_t* dest[] = {ra.data, rb.data, rc.data};
  ASSERT_TRUE(load_memory(
      img, [&](uint32_t r) { return r < 3 ? dest[r] : nullptr; }, 2, &err))
      << err;
  EXPECT_EQ(std::memcmp(ra.data, a.expect.data, a.src.size), 0);
  EXPECT_EQ(std::memcmp(rb.data, b.expect.data, b.src.size), 0);
  EXPECT_EQ(std::memcmp(rc.data, c.expect.data, c.src.size), 0);
  EXPECT_TRUE(verify_memory(img, 3, &err)) << err;
}

INSTANTIATE_TEST_SUITE_P(Levels, ImageRoundTrip, ::testing::Values(0, -1, 1, 3, 19));

TEST(HostAddressesRecord, RoundTripAndBadCounts) {
  ByteWriter w;
  host_addresses_record().encode(w);
  EXPECT_EQ(w.size(), 4u + 32u);
  HostAddressesRecord r;
  ByteReader in(w.data(), w.size());
  ASSERT_TRUE(r.decode(in));
  EXPECT_EQ(r.count, 2u);
  EXPECT_EQ(r.addrs, std::string_view(kHostAddressBytes, 32));
  // Empty list.
  ByteWriter empty;
  HostAddressesRecord{}.encode(empty);
  ByteReader e(empty.data(), empty.size());
  ASSERT_TRUE(r.decode(e));
  EXPECT_EQ(r.count, 0u);
  // A count the payload does not hold, bytes left over, an absurd count.
  auto bad = [](uint32_t count, size_t bytes) {
    ByteWriter b;
    b.put_u32(count);
    std::string zeros(bytes, '\0');
    b.put_bytes(zeros.data(), zeros.size());
    HostAddressesRecord rec;
    ByteReader rd(b.data(), b.size());
    return !rec.decode(rd);
  };
  EXPECT_TRUE(bad(3, 32));
  EXPECT_TRUE(bad(2, 33));
  EXPECT_TRUE(bad(1, 15));
  EXPECT_TRUE(bad(kMaxHostAddresses + 1, size_t{kMaxHostAddresses + 1} * 16));
  EXPECT_FALSE(bad(kMaxHostAddresses, size_t{kMaxHostAddresses} * 16));
  ByteReader truncated(w.data(), 2);
  EXPECT_FALSE(r.decode(truncated));
}

TEST(ChunkEncoder, ChoosesRawZstdOrNothing) {
  Mapping m(kChunkPages * kPageSize);
  ChunkEncoder enc;
  ASSERT_TRUE(enc.init(1));
  ByteWriter out;
  ASSERT_TRUE(enc.encode(0, 0, m.data, kChunkPages, nullptr, out));
  EXPECT_EQ(enc.last_stored_pages(), 0u);
  EXPECT_EQ(out.size(), kChunkHeaderSize);

  std::mt19937_64 rng(5);
  for (size_t i = 0; i < m.size / 8; i++) reinterpret_cast<uint64_t*>(m.data)[i] = rng();
  out.clear();
  ASSERT_TRUE(enc.encode(0, 0, m.data, kChunkPages, nullptr, out));
  ChunkHeader h;
  ASSERT_TRUE(decode_chunk_header(out.data(), out.size(), &h));
  EXPECT_EQ(h.flags, kChunkRaw);  // random bytes do not compress
  EXPECT_EQ(h.stored_pages, kChunkPages);

  std::memset(m.data, 0x5a, m.size);
  out.clear();
  ASSERT_TRUE(enc.encode(0, 0, m.data, 10, nullptr, out));
  ASSERT_TRUE(decode_chunk_header(out.data(), out.size(), &h));
  EXPECT_EQ(h.flags, 0u);
  EXPECT_LT(h.payload_size, 1000u);
  EXPECT_FALSE(enc.encode(0, 0, m.data, kChunkPages + 1, nullptr, out));
  EXPECT_FALSE(enc.init(1000));
}

// Frames carry no XXH64 since 2026-12-07 (the section's CRC32C covers
// them, checked by every reader first); older images' frames do, and still
// decode, their checksum checked by zstd.
TEST(ChunkDecoder, ReadsFramesWithAndWithoutContentChecksum) {
  std::vector<uint8_t> pages(4 * kPageSize);
  for (size_t i = 0; i < pages.size(); i++) pages[i] = static_cast<uint8_t>(i % 7 + i / 4096);
  ChunkHeader h;
  h.page_count = 4;
  h.stored_pages = 4;
  h.bitmap[0] = 0xf;
  for (int with : {0, 1}) {
    ZSTD_CCtx* c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, with);
    ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 1);
    std::vector<uint8_t> frame(ZSTD_compressBound(pages.size()));
    size_t n = ZSTD_compress2(c, frame.data(), frame.size(), pages.data(), pages.size());
    ZSTD_freeCCtx(c);
    ASSERT_FALSE(ZSTD_isError(n));
    h.payload_size = n;
    std::vector<uint8_t> back(pages.size());
    std::string err;
    ASSERT_TRUE(decode_chunk(h, frame.data(), back.data(), &err)) << with << ": " << err;
    EXPECT_TRUE(back == pages);
    if (with) {  // zstd checks the content checksum of a frame that has one
      frame[n - 1] ^= 1;
      EXPECT_FALSE(decode_chunk(h, frame.data(), back.data(), &err));
    }
  }
}

TEST(ImageWriter, ReportsTheFirstErrno) {
  int fd = open("/dev/full", O_WRONLY);
  ASSERT_GE(fd, 0);
  ImageWriter w(fd);
  EXPECT_FALSE(w.write_header(1));
  EXPECT_EQ(w.error(), -ENOSPC);
  EXPECT_FALSE(w.finish());
  EXPECT_EQ(w.error(), -ENOSPC);
  close(fd);
  ImageWriter bad(-1);
  EXPECT_FALSE(bad.write_header(1));
  EXPECT_EQ(bad.error(), -EBADF);
}

TEST(ImageWriter, SurvivesShortWrites) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  int small = 4096;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
  fcntl(sv[0], F_SETFL, O_NONBLOCK);  // writes return short or EAGAIN
  std::string received;
  std::thread reader([&] {
    char buf[3000];
    for (ssize_t n; (n = read(sv[1], buf, sizeof(buf))) > 0;) received.append(buf, n);
  });
  SyntheticRegion r(kChunkPages + 3, 4);
  bool ok = write_image(sv[0], ImageSpec{{&r}}, 1);
  close(sv[0]);
  reader.join();
  close(sv[1]);
  ASSERT_TRUE(ok);
  TempFile f;
  f.replace(received);
  LoadedImage img;
  std::string err;
  ASSERT_TRUE(read_image(f.path, true, &img, &err)) << err;
  Mapping m(r.src.size);
  ASSERT_TRUE(load_memory(
      img, [&](uint32_t i) { return i == 0 ? m.data : nullptr; }, 1, &err));
  EXPECT_EQ(std::memcmp(m.data, r.expect.data, m.size), 0);
}

// A small but complete image for the damage tests.
std::string small_image(int level) {
  static SyntheticRegion r(kChunkPages + 20, 9);
  TempFile file;
  EXPECT_TRUE(write_image(file.fd, ImageSpec{{&r}}, level));
  return file.contents();
}

bool read_fails(const TempFile& f, std::string* err) {
  LoadedImage img;
  if (!read_image(f.path, true, &img, err)) return true;
  return !verify_memory(img, 2, err);
}

TEST(ImageDamage, TruncatedAnywhereIsAnError) {
  const std::string full = small_image(1);
  TempFile f;
  f.replace(full);
  std::string err;
  for (size_t cut = full.size() - 1; cut > 0; cut -= cut > 4096 ? 613 : 1) {
    ASSERT_EQ(ftruncate(f.fd, cut), 0);
    ASSERT_TRUE(read_fails(f, &err)) << "cut at " << cut;
    EXPECT_FALSE(err.empty());
    if (cut >= sizeof(FileHeader) + 24) {
      EXPECT_NE(err.find("truncated"), std::string::npos) << err;
    }
  }
}

TEST(ImageDamage, FlippedChunkByteFailsVerification) {
  std::string img_bytes = small_image(1);
  TempFile f;
  f.replace(img_bytes);
  LoadedImage img;
  std::string err;
  ASSERT_TRUE(read_image(f.path, false, &img, &err)) << err;
  for (bool compressed : {true, false}) {
    for (auto& c : img.chunks) {
      if (((c.hdr.flags & kChunkRaw) == 0) != compressed || c.hdr.payload_size == 0) continue;
      std::string bad = img_bytes;
      bad[c.payload_offset + c.hdr.payload_size / 2] ^= 0x10;
      f.replace(bad);
      EXPECT_TRUE(read_fails(f, &err));
      EXPECT_NE(err.find("checksum"), std::string::npos) << err;
      LoadedImage quick;  // without chunk verification the damage shows in load_memory
      ASSERT_TRUE(read_image(f.path, false, &quick, &err)) << err;
      EXPECT_FALSE(verify_memory(quick, 1, &err));
      break;
    }
  }
}

TEST(ImageDamage, OtherVersionIsNamed) {
  std::string bytes = small_image(1);
  FileHeader h;
  std::memcpy(&h, bytes.data(), sizeof(h));
  h.version = 7;
  h.header_crc = crc32c(&h, offsetof(FileHeader, header_crc));
  std::memcpy(bytes.data(), &h, sizeof(h));
  TempFile f;
  f.replace(bytes);
  std::string err;
  ASSERT_TRUE(read_fails(f, &err));
  EXPECT_EQ(err, "format version 7, this build reads 1");
}

TEST(ImageDamage, GarbageIsNotAnImage) {
  TempFile f;
  std::string err;
  ASSERT_TRUE(read_fails(f, &err));  // empty
  EXPECT_EQ(err, "not a ckpt image");
  std::mt19937 rng(3);
  std::string junk(100000, '\0');
  for (auto& c : junk) c = static_cast<char>(rng());
  f.replace(junk);
  ASSERT_TRUE(read_fails(f, &err));
  EXPECT_EQ(err, "not a ckpt image");
  LoadedImage img;
  EXPECT_FALSE(read_image("/nonexistent/image", false, &img, &err));
  EXPECT_NE(err.find("cannot open"), std::string::npos);
  EXPECT_FALSE(read_image("/tmp", false, &img, &err));
}

TEST(ImageDamage, RandomCorruptionNeverCrashes) {
  const std::string full = small_image(-1);
  TempFile f;
  static uint64_t seed = 11;  // differs on each --gtest_repeat
  std::mt19937_64 rng(seed++);
  std::string err;
  for (int iter = 0; iter < 400; iter++) {
    std::string bad = full;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; k++) {
      // Bias towards the metadata at the front, where parsing decisions are.
      size_t at = rng() % 2 ? rng() % std::min<size_t>(bad.size(), 2048) : rng() % bad.size();
      bad[at] = static_cast<char>(rng());
    }
    f.replace(bad);
    read_fails(f, &err);  // must return, whichever way
  }
}

// CPU time of this thread: throughput per core even when the machine is busy.
double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// Speed on 256 MiB of mixed data: 25% zero pages, 25% a repeating pattern of
// doubles, 50% random doubles. Run with --gtest_also_run_disabled_tests.
TEST(ImageBench, DISABLED_MixedData256MiB) {
  const size_t pages = (256u << 20) / kPageSize;
  Mapping src(pages * kPageSize), dst(pages * kPageSize);
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> uni(0, 1000);
  for (size_t i = 0; i < pages; i++) {
    auto* d = reinterpret_cast<double*>(src.data + i * kPageSize);
    unsigned k = rng() % 4;
    if (k == 0) continue;
    for (size_t j = 0; j < kPageSize / 8; j++) d[j] = k == 1 ? 1.5 * (j % 32) : uni(rng);
  }
  std::memset(dst.data, 0, dst.size);  // fault the pages in before timing
  for (int level : {-1, 1, 3}) {
    ChunkEncoder enc;
    ASSERT_TRUE(enc.init(level));
    ByteWriter out;
    out.reserve(src.size + src.size / 8);  // fault the output in before timing
    out.clear();
    std::vector<std::pair<size_t, size_t>> spans;
    double t0 = cpu_seconds();
    for (size_t first = 0; first < pages; first += kChunkPages) {
      size_t at = out.size();
      ASSERT_TRUE(enc.encode(0, first, src.data + first * kPageSize, kChunkPages, nullptr, out));
      spans.push_back({at, out.size() - at});
    }
    double t1 = cpu_seconds();
    std::string err;
    for (auto [at, n] : spans) {
      ChunkHeader h;
      ASSERT_TRUE(decode_chunk_header(out.data() + at, n, &h));
      ASSERT_TRUE(decode_chunk(h, out.data() + at + kChunkHeaderSize,
                               dst.data + h.first_page * kPageSize, &err))
          << err;
    }
    double t2 = cpu_seconds();
    ASSERT_EQ(std::memcmp(src.data, dst.data, src.size), 0);
    std::memset(dst.data, 0, dst.size);
    std::printf("level %2d: encode %6.0f MiB/s, decode %6.0f MiB/s (per CPU second), ratio %.2f\n",
                level, 256 / (t1 - t0), 256 / (t2 - t1), double(src.size) / out.size());
  }
}

}  // namespace
}  // namespace ckpt::image
