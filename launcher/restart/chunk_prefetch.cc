// Decoding chunks ahead of the lazy filler (see chunk_prefetch.h).
#include "chunk_prefetch.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>

#include "common/chunk_read.h"

namespace ckpt {
namespace {

constexpr size_t kChunkBytes = size_t{image::kChunkPages} * 4096;
constexpr size_t kReadAheadChunks = 8;

}  // namespace

ChunkPrefetch::ChunkPrefetch(const image::LoadedImage& img, int image_fd, std::vector<size_t> order,
                             int workers, size_t depth)
    : img_(img), fd_(image_fd), order_(std::move(order)), slots_(depth ? depth : 1) {
  ready_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  for (auto& s : slots_) s.pages.reset(new uint8_t[kChunkBytes]);
  for (int i = 0; i < workers; i++) workers_.emplace_back([this] { work(); });
}

ChunkPrefetch::~ChunkPrefetch() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
  if (ready_fd_ >= 0) close(ready_fd_);
}

void ChunkPrefetch::drain_ready() {
  uint64_t n;
  if (ready_fd_ >= 0 && read(ready_fd_, &n, sizeof(n)) < 0) {
  }
}

// Asks the kernel for the payloads a little ahead, so that reading overlaps
// decoding.
void ChunkPrefetch::read_ahead(size_t position) {
  size_t ahead = position + kReadAheadChunks;
  if (ahead >= order_.size()) return;
  const image::ChunkRef& c = img_.chunks[order_[ahead]];
  posix_fadvise(fd_, static_cast<off_t>(c.payload_offset), static_cast<off_t>(c.hdr.payload_size),
                POSIX_FADV_WILLNEED);
}

void ChunkPrefetch::work() {
  std::vector<uint8_t> payload;
  for (;;) {
    size_t position;
    Slot* slot;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] {
        return stop_ || (next_ < order_.size() && next_ < released_ + slots_.size());
      });
      if (stop_) return;
      position = next_++;
      slot = &slots_[position % slots_.size()];
      slot->position = position;
      slot->ready = false;
    }
    read_ahead(position);
    std::string err;
    bool ok =
        image::read_chunk(fd_, img_.chunks[order_[position]], slot->pages.get(), payload, &err);
    {
      std::lock_guard lock(mu_);
      slot->failed = !ok;
      slot->err = err;
      slot->ready = true;
    }
    cv_.notify_all();
    uint64_t one = 1;
    if (ready_fd_ >= 0 && write(ready_fd_, &one, sizeof(one)) < 0) {
    }
  }
}

bool ChunkPrefetch::take(size_t position, int timeout_ms, const uint8_t** pages, std::string* err) {
  std::unique_lock lock(mu_);
  Slot& slot = slots_[position % slots_.size()];
  auto ready = [&] { return slot.position == position && slot.ready; };
  if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), ready)) return false;
  *pages = slot.failed ? nullptr : slot.pages.get();
  if (slot.failed) *err = slot.err;
  return true;
}

void ChunkPrefetch::release(size_t position) {
  {
    std::lock_guard lock(mu_);
    if (position + 1 > released_) released_ = position + 1;
  }
  cv_.notify_all();
}

}  // namespace ckpt
