// A bounded, malloc-free string builder for paths and messages built on the
// checkpoint path (where snprintf and std::string are off limits).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace ckpt {

template <size_t N>
class FixedString {
 public:
  FixedString() { buf_[0] = 0; }
  explicit FixedString(std::string_view s) { append(s); }

  FixedString& append(std::string_view s) {
    size_t n = s.size() < N - 1 - len_ ? s.size() : N - 1 - len_;
    std::memcpy(buf_ + len_, s.data(), n);
    len_ += n;
    buf_[len_] = 0;
    return *this;
  }
  FixedString& append(char c) { return append(std::string_view(&c, 1)); }
  FixedString& append_int(int64_t v) {
    if (v < 0) {
      append('-');
      return append_uint(static_cast<uint64_t>(-(v + 1)) + 1);
    }
    return append_uint(static_cast<uint64_t>(v));
  }
  FixedString& append_uint(uint64_t v) {
    char tmp[24];
    int i = 0;
    do {
      tmp[i++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v);
    while (i) append(tmp[--i]);
    return *this;
  }
  FixedString& append_hex(uint64_t v) {
    char tmp[20];
    int i = 0;
    do {
      tmp[i++] = "0123456789abcdef"[v & 15];
      v >>= 4;
    } while (v);
    append("0x");
    while (i) append(tmp[--i]);
    return *this;
  }
  void clear() {
    len_ = 0;
    buf_[0] = 0;
  }
  void truncate(size_t n) {
    if (n < len_) {
      len_ = n;
      buf_[n] = 0;
    }
  }

  const char* c_str() const { return buf_; }
  std::string_view view() const { return {buf_, len_}; }
  size_t size() const { return len_; }
  bool empty() const { return len_ == 0; }

 private:
  char buf_[N];
  size_t len_ = 0;
};

using PathString = FixedString<4096>;
using MessageString = FixedString<512>;

}  // namespace ckpt
