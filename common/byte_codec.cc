// ByteWriter growth with raw mmap/mremap (see byte_codec.h for why).
#include "ckpt/byte_codec.h"

#include <sys/mman.h>

#include "ckpt/sys.h"

namespace ckpt {

ByteWriter::~ByteWriter() {
  if (!fixed_ && data_) sys::munmap(data_, cap_);
}

void ByteWriter::release() {
  if (!fixed_ && data_) sys::munmap(data_, cap_);
  forget();
}

bool ByteWriter::grow(size_t need) {
  if (fixed_) {
    overflow_ = true;
    return false;
  }
  size_t cap = cap_ ? cap_ : 64 * 1024;
  while (cap < need) cap *= 2;
  long p;
  if (data_) {
    p = sys::mremap(data_, cap_, cap, MREMAP_MAYMOVE, nullptr);
  } else {
    p = sys::mmap(nullptr, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  }
  if (p < 0 && p > -4096) {
    overflow_ = true;
    return false;
  }
  data_ = reinterpret_cast<uint8_t*>(p);
  cap_ = cap;
  return true;
}

void ByteWriter::put_bytes(const void* p, size_t n) {
  if (overflow_) return;
  if (size_ + n > cap_ && !grow(size_ + n)) return;
  if (n) std::memcpy(data_ + size_, p, n);
  size_ += n;
}

size_t ByteWriter::reserve(size_t n) {
  size_t at = size_;
  if (overflow_) return at;
  if (size_ + n > cap_ && !grow(size_ + n)) return at;
  std::memset(data_ + size_, 0, n);
  size_ += n;
  return at;
}

}  // namespace ckpt
