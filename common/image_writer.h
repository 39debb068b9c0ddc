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

// Where an ImageWriter's bytes go instead of its fd's write(2) (a sink that
// writes the image with direct I/O, runtime/core/direct_image_sink.h).
// append() takes the next bytes of the file, a then b; finish() puts every
// byte taken on the file (before the caller's fsync). error(): the first
// failure's -errno, 0 if none.
class ImageSink {
 public:
  virtual bool append(const void* a, size_t an, const void* b, size_t bn) = 0;
  virtual bool finish() = 0;
  virtual int error() const = 0;

 protected:
  ~ImageSink() = default;
};

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

  // From now on the bytes go to `sink` (finish() finishes it too). The bytes
  // already written end with partial_block(): the last bytes_written() % 4096
  // of them, for a sink that writes whole 4 KiB blocks.
  void redirect(ImageSink* sink) { sink_ = sink; }
  const uint8_t* partial_block() const { return tail_; }

  // -errno of the first failure, 0 if none.
  int error() const { return error_; }
  uint64_t bytes_written() const { return bytes_; }
  // The image's link checksum (image_lineage.h: the header and every section
  // header), as image_link_crc() would read it back from the file.
  uint32_t link_crc() const { return link_crc_; }
  int fd() const { return fd_; }
  const EndRecord& counts() const { return end_; }

 private:
  bool fail(int e) {
    if (!error_) error_ = e;
    return false;
  }
  bool write_all(const void* a, size_t an, const void* b, size_t bn);
  bool account(Tag tag, const void* payload, size_t n);
  void keep_tail(const void* a, size_t an, const void* b, size_t bn);

  int fd_;
  int error_ = 0;
  bool header_written_ = false;
  bool finished_ = false;
  uint64_t bytes_ = 0;
  uint32_t link_crc_ = 0;
  EndRecord end_;
  WriteBehind behind_;  // the disk writes while the image is still being made
  ImageSink* sink_ = nullptr;
  uint8_t tail_[kPageSize] = {};  // the file's last bytes_ % kPageSize bytes
};

}  // namespace ckpt::image
