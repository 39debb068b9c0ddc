// The image of a big process written with direct I/O (O_DIRECT), by a thread
// of its own, while the chunk workers compress.
//
// Through the page cache, this machine's disk took 1.5 s to write and fsync
// 512 MiB that O_DIRECT writes in 0.25-0.35 s: every page-cache page is fresh
// memory to allocate, fill and write back. A direct write goes from the
// writer's buffer to the device. The sink copies the image's bytes into a
// ring of aligned slots; each full slot is written by the I/O thread at its
// offset, in order, while the workers fill the next ones, so compression and
// the disk overlap and neither waits for the page cache.
//
// The bytes written before the sink took over end with a partial 4 KiB block
// (ImageWriter::partial_block()); the first slot starts with it, at the
// block's offset, so that every direct write is block-aligned. finish()
// writes the last whole blocks directly and the unaligned tail through the
// page cache (O_DIRECT cleared); the caller's fsync follows. A file system
// that refuses O_DIRECT (start() false) keeps the ordinary writes; one that
// refuses a direct write (EINVAL) gets it, and the rest, through the page
// cache.
//
// Malloc-free and libc-free: it runs in the checkpoint path (a forked
// writer, a copy-first writer or the stopped application). Not thread-safe:
// the caller serializes append() (the workers' write lock), like the
// ImageWriter it serves.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "common/image_writer.h"
#include "raw_thread.h"

namespace ckpt {

class DirectImageSink final : public image::ImageSink {
 public:
  static constexpr int kSlots = 4;
  static constexpr size_t kSlotBytes = 2u << 20;

  DirectImageSink() = default;
  ~DirectImageSink() { stop(); }
  DirectImageSink(const DirectImageSink&) = delete;
  DirectImageSink& operator=(const DirectImageSink&) = delete;

  // Takes over writing fd from `offset` (the bytes written so far, ending
  // with `partial`, offset % 4096 bytes): sets O_DIRECT, maps the slots,
  // starts the I/O thread. False, leaving fd as it was, when the file system
  // refuses O_DIRECT or memory is short.
  bool start(int fd, uint64_t offset, const uint8_t* partial);

  bool append(const void* a, size_t an, const void* b, size_t bn) override;
  bool finish() override;
  int error() const override { return error_.load(); }

  // Whether start() succeeded.
  bool started() const { return started_; }
  // Whether a direct write was refused (the rest went through the page cache).
  bool refused() const { return refused_.load(); }

 private:
  static void io_main(void* self);
  void io_loop();
  bool fail(int e);
  bool write_at(const uint8_t* p, size_t n, uint64_t offset);
  uint8_t* slot(int64_t n) const { return slots_ + (n % kSlots) * kSlotBytes; }
  bool seal();
  void wait_written(int32_t count);
  void stop_io();
  void stop();

  int fd_ = -1;
  long flags_ = 0;     // the fd's flags before O_DIRECT
  uint64_t base_ = 0;  // file offset of slot 0's first byte (4 KiB-aligned)
  uint8_t* slots_ = nullptr;
  size_t fill_ = 0;                  // bytes in the slot being filled
  std::atomic<int32_t> sealed_{0};   // slots handed to the I/O thread
  std::atomic<int32_t> written_{0};  // slots the I/O thread wrote
  std::atomic<int32_t> work_{0};     // changes at each seal and at the stop
  std::atomic<int32_t> stopping_{0};
  std::atomic<int32_t> error_{0};
  std::atomic<bool> direct_{false};  // O_DIRECT is set on fd_
  std::atomic<bool> refused_{false};
  bool running_ = false;
  bool started_ = false;
  RawThread io_;
};

}  // namespace ckpt
