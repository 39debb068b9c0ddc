// Little-endian binary encoding shared by the image format and the protocol.
//
// ByteWriter never calls malloc: it writes into a caller's fixed buffer, or
// grows its own buffer with raw mmap/mremap. That makes it safe on the
// checkpoint path, where application threads are stopped and may hold the
// allocator's lock. ByteReader decodes from a byte span and never reads past
// its end: every getter reports failure through ok() instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace ckpt {

class ByteWriter {
 public:
  // Growable buffer backed by anonymous mmap.
  ByteWriter() = default;
  // Fixed buffer owned by the caller; writing past it sets overflow().
  ByteWriter(void* buf, size_t cap) : data_(static_cast<uint8_t*>(buf)), cap_(cap), fixed_(true) {}
  ~ByteWriter();
  ByteWriter(const ByteWriter&) = delete;
  ByteWriter& operator=(const ByteWriter&) = delete;

  void put_u8(uint8_t v) { put_bytes(&v, 1); }
  void put_u16(uint16_t v) { put_bytes(&v, 2); }
  void put_u32(uint32_t v) { put_bytes(&v, 4); }
  void put_u64(uint64_t v) { put_bytes(&v, 8); }
  void put_i64(int64_t v) { put_bytes(&v, 8); }
  // A length-prefixed (u32) string.
  void put_str(std::string_view s) {
    put_u32(static_cast<uint32_t>(s.size()));
    put_bytes(s.data(), s.size());
  }
  void put_bytes(const void* p, size_t n);
  // Reserve n bytes and return where they start (for patching sizes later).
  size_t reserve(size_t n);
  void patch_u32(size_t at, uint32_t v) {
    if (at + 4 <= size_) std::memcpy(data_ + at, &v, 4);
  }
  void patch_u64(size_t at, uint64_t v) {
    if (at + 8 <= size_) std::memcpy(data_ + at, &v, 8);
  }

  const uint8_t* data() const { return data_; }
  uint8_t* mutable_data() { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return cap_; }
  bool overflow() const { return overflow_; }
  void clear() { size_ = 0; }
  // Drops everything past the first n bytes.
  void truncate(size_t n) {
    if (n < size_) size_ = n;
  }
  // Returns the buffer to the kernel (growable mode).
  void release();
  // Drops a buffer that is no longer mapped (after a restart, the runtime's
  // own buffers are not part of the image).
  void forget() {
    if (!fixed_) data_ = nullptr, cap_ = 0;
    size_ = 0;
    overflow_ = false;
  }

 private:
  bool grow(size_t need);

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t cap_ = 0;
  bool fixed_ = false;
  bool overflow_ = false;
};

class ByteReader {
 public:
  ByteReader(const void* p, size_t n) : p_(static_cast<const uint8_t*>(p)), n_(n) {}

  uint8_t u8() { return get<uint8_t>(); }
  uint16_t u16() { return get<uint16_t>(); }
  uint32_t u32() { return get<uint32_t>(); }
  uint64_t u64() { return get<uint64_t>(); }
  int64_t i64() { return get<int64_t>(); }
  // A length-prefixed string; the view points into the reader's buffer.
  std::string_view str() {
    uint32_t len = u32();
    if (!ok_ || len > n_ - pos_) return fail_view();
    std::string_view s(reinterpret_cast<const char*>(p_ + pos_), len);
    pos_ += len;
    return s;
  }
  const uint8_t* bytes(size_t n) {
    if (!ok_ || n > n_ - pos_) {
      ok_ = false;
      return nullptr;
    }
    const uint8_t* at = p_ + pos_;
    pos_ += n;
    return at;
  }
  bool ok() const { return ok_; }
  size_t pos() const { return pos_; }
  size_t remaining() const { return n_ - pos_; }

 private:
  template <typename T>
  T get() {
    T v{};
    if (!ok_ || sizeof(T) > n_ - pos_) {
      ok_ = false;
      return v;
    }
    std::memcpy(&v, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string_view fail_view() {
    ok_ = false;
    return {};
  }

  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace ckpt
