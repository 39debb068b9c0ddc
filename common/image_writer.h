// Sequential writer of a checkpoint image (image_format.h) onto an fd.
//
// Malloc-free and libc-free (raw syscalls from sys.h): it runs in the
// checkpoint path while application threads are stopped. The caller opens,
// fsyncs, closes and renames the file; this class only writes the bytes, in
// order, handling short writes and EINTR. The first failure sticks: every
// later call returns false and error() gives its -errno. Not thread-safe: the
// caller serializes calls (workers encode chunks, one thread writes them).
#pragma once

#include <cstddef>
#include <cstdint>

#include "ckpt/byte_codec.h"
#include "ckpt/image_format.h"
#include "write_behind.h"

namespace ckpt::image {

class ImageWriter {
 public:
  explicit ImageWriter(int fd) : fd_(fd), behind_(fd) {}

  // FileHeader: magic, version, arch, build_id(), CLOCK_REALTIME, generation.
  bool write_header(uint64_t generation);

  // One section: SectionHeader (with the payload's CRC32C) + payload. Memory
  // accounting for End is taken from the payload itself: a kMemRegions
  // payload adds the sizes of its regions with content, a kMemChunk payload
  // (as produced by ChunkEncoder) adds a chunk and its stored bytes. kEnd is
  // refused (use finish()).
  bool add_section(Tag tag, const void* payload, size_t n);
  bool add_section(Tag tag, const ByteWriter& payload) {
    return add_section(tag, payload.data(), payload.size());
  }

  // A list section (kThreads, kSignals, kFds, kMemRegions): u32 count, then
  // each record's encoding. `scratch` is reused (cleared first).
  template <typename Record>
  bool add_records(Tag tag, const Record* records, size_t count, ByteWriter& scratch) {
    scratch.clear();
    scratch.put_u32(static_cast<uint32_t>(count));
    for (size_t i = 0; i < count; i++) records[i].encode(scratch);
    if (scratch.overflow()) return fail(-12 /* ENOMEM */);
    return add_section(tag, scratch);
  }

  // The End section with the counts of everything written before it.
  bool finish();

  // -errno of the first failure, 0 if none.
  int error() const { return error_; }
  uint64_t bytes_written() const { return bytes_; }
  const EndRecord& counts() const { return end_; }

 private:
  bool fail(int e) {
    if (!error_) error_ = e;
    return false;
  }
  bool write_all(const void* a, size_t an, const void* b, size_t bn);
  bool account(Tag tag, const void* payload, size_t n);

  int fd_;
  int error_ = 0;
  bool header_written_ = false;
  bool finished_ = false;
  uint64_t bytes_ = 0;
  EndRecord end_;
  WriteBehind behind_;  // the disk writes while the image is still being made
};

}  // namespace ckpt::image
