// Hex decoding, the one codec of the tree: the job secret (job_secret.cc,
// the runtime's CKPT_SECRET), inotify's file handles and other numbers in
// fdinfo, /proc/pid/maps, /proc/self/status signal masks, POSIX timers'
// values, ckpt_rsh's launch requests and the address moves kept across an
// exec. Header-only and malloc-free, so the checkpoint path may use it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ckpt {

// The value of one hex digit (either case), or -1.
inline int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes the first 2 * n digits of `text` into out[0..n); false if text is
// shorter or holds a non-hex digit there.
inline bool decode_hex(std::string_view text, uint8_t* out, size_t n) {
  if (text.size() < 2 * n) return false;
  for (size_t i = 0; i < n; i++) {
    int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

}  // namespace ckpt
