// Decoding an image's memory chunks ahead of their consumer, in worker
// threads: the lazy restart's filler copies chunk after chunk into the
// restored process while the next ones are read, checked and decompressed.
// The workers stay at most `depth` chunks ahead (each slot holds one decoded
// chunk) and ask the kernel to read ahead of themselves.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/image_reader.h"

namespace ckpt {

class ChunkPrefetch {
 public:
  // order: chunk indices of img in the order they will be taken.
  ChunkPrefetch(const image::LoadedImage& img, int image_fd, std::vector<size_t> order, int workers,
                size_t depth);
  ~ChunkPrefetch();
  ChunkPrefetch(const ChunkPrefetch&) = delete;
  ChunkPrefetch& operator=(const ChunkPrefetch&) = delete;

  // The decoded pages of the chunk at `position` in the order (its first
  // page; only its stored pages hold data), or nullptr with *err when it
  // failed its checks. Waits at most timeout_ms: false when not ready yet.
  bool take(size_t position, int timeout_ms, const uint8_t** pages, std::string* err);
  // The slot of `position` may be reused.
  void release(size_t position);
  // Readable when a chunk became ready since the last drain_ready(): poll
  // it with other descriptors instead of waiting in take().
  int ready_fd() const { return ready_fd_; }
  void drain_ready();

 private:
  struct Slot {
    size_t position = SIZE_MAX;  // which chunk of the order it holds
    bool ready = false;
    bool failed = false;
    std::string err;
    std::unique_ptr<uint8_t[]> pages;
  };

  void work();
  void read_ahead(size_t position);

  const image::LoadedImage& img_;
  int fd_;
  std::vector<size_t> order_;
  std::vector<Slot> slots_;
  size_t next_ = 0;      // next position a worker takes
  size_t released_ = 0;  // positions below are done with
  bool stop_ = false;
  int ready_fd_ = -1;  // an eventfd
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::thread> workers_;
};

}  // namespace ckpt
