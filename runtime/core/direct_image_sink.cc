// DirectImageSink (see direct_image_sink.h).
#include "direct_image_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>

#include <cstring>

#include "ckpt/sys.h"
#include "futex.h"

namespace ckpt {
namespace {

constexpr uint64_t kBlock = 4096;
constexpr size_t kRingBytes = DirectImageSink::kSlots * DirectImageSink::kSlotBytes;

}  // namespace

bool DirectImageSink::start(int fd, uint64_t offset, const uint8_t* partial) {
  long flags = sys::fcntl(fd, F_GETFL);
  if (flags < 0) return false;
  long p =
      sys::mmap(nullptr, kRingBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p < 0 && p > -4096) return false;
  slots_ = reinterpret_cast<uint8_t*>(p);
  if (sys::fcntl(fd, F_SETFL, flags | O_DIRECT) < 0) {  // not on this file system
    sys::munmap(slots_, kRingBytes);
    slots_ = nullptr;
    return false;
  }
  fd_ = fd;
  flags_ = flags;
  direct_.store(true);
  fill_ = offset % kBlock;
  base_ = offset - fill_;
  std::memcpy(slots_, partial, fill_);
  if (!raw_thread_start(io_, io_main, this, 64 * 1024)) {
    sys::fcntl(fd, F_SETFL, flags);
    sys::munmap(slots_, kRingBytes);
    slots_ = nullptr;
    return false;
  }
  running_ = started_ = true;
  return true;
}

bool DirectImageSink::append(const void* a, size_t an, const void* b, size_t bn) {
  const void* parts[2] = {a, b};
  size_t sizes[2] = {an, bn};
  for (int i = 0; i < 2; i++) {
    auto* from = static_cast<const uint8_t*>(parts[i]);
    size_t left = sizes[i];
    while (left > 0) {
      if (error_.load()) return false;
      size_t room = kSlotBytes - fill_;
      size_t n = left < room ? left : room;
      std::memcpy(slot(sealed_.load()) + fill_, from, n);
      fill_ += n;
      from += n;
      left -= n;
      if (fill_ == kSlotBytes && !seal()) return false;
    }
  }
  return error_.load() == 0;
}

// The slot being filled goes to the I/O thread; the next one must be free.
bool DirectImageSink::seal() {
  const int32_t sealed = sealed_.fetch_add(1) + 1;
  work_.fetch_add(1);
  futex_wake_all(work_);
  fill_ = 0;
  wait_written(sealed - kSlots + 1);
  return error_.load() == 0;
}

// Until the I/O thread has written `count` slots (or failed).
void DirectImageSink::wait_written(int32_t count) {
  for (;;) {
    int32_t w = written_.load();
    if (w >= count || error_.load()) return;
    futex_wait(written_, w);
  }
}

bool DirectImageSink::write_at(const uint8_t* p, size_t n, uint64_t offset) {
  while (n > 0) {
    long r = sys::pwrite(fd_, p, n, static_cast<long>(offset));
    if (r == -EINTR || r == -EAGAIN) continue;
    if (r == -EINVAL && direct_.load()) {  // a direct write refused: the page cache then
      direct_.store(false);
      refused_.store(true);
      long f = sys::fcntl(fd_, F_SETFL, flags_);
      if (f < 0) return fail(static_cast<int>(f));
      continue;
    }
    if (r <= 0) return fail(r < 0 ? static_cast<int>(r) : -EIO);
    p += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return true;
}

bool DirectImageSink::fail(int e) {
  int32_t none = 0;
  error_.compare_exchange_strong(none, e);
  return false;
}

void DirectImageSink::io_main(void* self) { static_cast<DirectImageSink*>(self)->io_loop(); }

void DirectImageSink::io_loop() {
  for (;;) {
    // Loaded first: a seal or a stop after it changes it, and the wait below
    // returns at once.
    const int32_t seen = work_.load();
    const int32_t sealed = sealed_.load();
    const int32_t w = written_.load();
    if (w < sealed) {
      bool ok = write_at(slot(w), kSlotBytes, base_ + uint64_t(w) * kSlotBytes);
      written_.store(w + 1);
      futex_wake_all(written_);
      if (!ok) return;
      continue;
    }
    if (stopping_.load()) return;
    futex_wait(work_, seen);
  }
}

void DirectImageSink::stop_io() {
  if (!running_) return;
  stopping_.store(1);
  work_.fetch_add(1);
  futex_wake_all(work_);
  raw_thread_join(io_);
  running_ = false;
}

void DirectImageSink::stop() {
  stop_io();
  if (fd_ >= 0 && direct_.load()) sys::fcntl(fd_, F_SETFL, flags_);
  direct_.store(false);
  if (slots_) sys::munmap(slots_, kRingBytes);
  slots_ = nullptr;
}

bool DirectImageSink::finish() {
  if (!running_) return false;
  const int32_t sealed = sealed_.load();
  wait_written(sealed);
  stop_io();
  if (error_.load()) return false;
  const uint8_t* last = slot(sealed);
  const uint64_t at = base_ + uint64_t(sealed) * kSlotBytes;
  const size_t whole = fill_ & ~(kBlock - 1);
  if (!write_at(last, whole, at)) return false;
  // The tail is not a whole block: through the page cache.
  long f = direct_.load() ? sys::fcntl(fd_, F_SETFL, flags_) : 0;
  if (f < 0) return fail(static_cast<int>(f));
  direct_.store(false);
  return write_at(last + whole, fill_ - whole, at + whole);
}

}  // namespace ckpt
