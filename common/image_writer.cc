// ImageWriter: FileHeader, sections with CRC32C, End counts; raw syscalls only
// (see image_writer.h).
#include "image_writer.h"

#include <errno.h>
#include <sys/uio.h>
#include <time.h>

#include <cstring>

#include "chunk_codec.h"
#include "ckpt/crc32c.h"
#include "ckpt/sys.h"

namespace ckpt::image {
namespace {

constexpr long kWritev = 20;

uint64_t realtime_ns() {
  struct timespec ts = {};
  sys::call2(sys::kClockGettime, CLOCK_REALTIME, reinterpret_cast<long>(&ts));
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

void ImageWriter::keep_tail(const void* a, size_t an, const void* b, size_t bn) {
  const size_t keep = bytes_ % kPageSize;  // bytes_ counts a and b already
  auto* out = tail_ + keep;
  auto take = [&out](const void* p, size_t n, size_t want) {
    const size_t k = n < want ? n : want;
    if (k == 0) return want;  // p may be null (no second part)
    out -= k;
    std::memcpy(out, static_cast<const uint8_t*>(p) + n - k, k);
    return want - k;
  };
  // Fill tail_ backwards: the end of b, then of a, then what it held (which
  // stays where it is: a and b did not cross a block boundary then).
  take(a, an, take(b, bn, keep));
}

bool ImageWriter::write_all(const void* a, size_t an, const void* b, size_t bn) {
  if (sink_) {
    if (!sink_->append(a, an, b, bn)) return fail(sink_->error() ? sink_->error() : -EIO);
    bytes_ += an + bn;
    return true;
  }
  struct iovec iov[2] = {{const_cast<void*>(a), an}, {const_cast<void*>(b), bn}};
  int first = 0;
  const int count = bn ? 2 : 1;
  while (first < count) {
    long n = sys::call3(kWritev, fd_, reinterpret_cast<long>(iov + first), count - first);
    if (n == -EINTR || n == -EAGAIN) continue;
    if (n < 0) return fail(static_cast<int>(n));
    if (n == 0) return fail(-EIO);
    bytes_ += static_cast<uint64_t>(n);
    auto left = static_cast<size_t>(n);
    while (first < count && left >= iov[first].iov_len) {
      left -= iov[first].iov_len;
      first++;
    }
    if (first < count) {
      iov[first].iov_base = static_cast<uint8_t*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
  keep_tail(a, an, b, bn);
  behind_.wrote_up_to(bytes_);
  return true;
}

bool ImageWriter::write_header(uint64_t generation) {
  if (error_) return false;
  if (header_written_) return fail(-EINVAL);
  FileHeader h;
  std::memset(&h, 0, sizeof(h));
  std::memcpy(h.magic, kMagic, sizeof(h.magic));
  h.version = kFormatVersion;
  h.arch = kArchX86_64;
  h.header_size = sizeof(FileHeader);
  std::string_view id = build_id();
  std::memcpy(h.build_id, id.data(), id.size() < sizeof(h.build_id) ? id.size() : 47);
  h.created_ns = realtime_ns();
  h.generation = generation;
  h.header_crc = crc32c(&h, offsetof(FileHeader, header_crc));
  link_crc_ = crc32c(&h, sizeof(h));
  header_written_ = true;
  return write_all(&h, sizeof(h), nullptr, 0);
}

bool ImageWriter::account(Tag tag, const void* payload, size_t n) {
  if (tag == Tag::kMemChunk) {
    ChunkHeader h;
    if (!decode_chunk_header(static_cast<const uint8_t*>(payload), n, &h)) return fail(-EINVAL);
    end_.chunks++;
    end_.stored_bytes += uint64_t{h.stored_pages} * kPageSize;
  } else if (tag == Tag::kMemRegions) {
    ByteReader r(payload, n);
    uint32_t count = r.u32();
    for (uint32_t i = 0; r.ok() && i < count; i++) {
      RegionRecord rec;
      if (!rec.decode(r)) return fail(-EINVAL);
      if (rec.has_content) end_.memory_bytes += rec.end - rec.start;
    }
    if (!r.ok()) return fail(-EINVAL);
  }
  return true;
}

bool ImageWriter::add_section(Tag tag, const void* payload, size_t n) {
  if (error_) return false;
  if (!header_written_ || finished_ || tag == Tag::kEnd) return fail(-EINVAL);
  if (!account(tag, payload, n)) return false;
  SectionHeader s = {};
  s.tag = static_cast<uint32_t>(tag);
  s.size = n;
  s.crc = crc32c(payload, n);
  link_crc_ = crc32c(&s, sizeof(s), link_crc_);
  end_.sections++;
  return write_all(&s, sizeof(s), payload, n);
}

bool ImageWriter::finish() {
  if (error_) return false;
  if (!header_written_ || finished_) return fail(-EINVAL);
  uint8_t buf[64];
  ByteWriter w(buf, sizeof(buf));
  end_.encode(w);
  SectionHeader s = {};
  s.tag = static_cast<uint32_t>(Tag::kEnd);
  s.size = w.size();
  s.crc = crc32c(w.data(), w.size());
  link_crc_ = crc32c(&s, sizeof(s), link_crc_);
  finished_ = true;
  if (!write_all(&s, sizeof(s), w.data(), w.size())) return false;
  if (sink_ && !sink_->finish()) return fail(sink_->error() ? sink_->error() : -EIO);
  return true;
}

}  // namespace ckpt::image
