// CRC32C over 8 bytes per step with the SSE4.2 crc32 instruction.
#include "ckpt/crc32c.h"

#include <cstring>

namespace ckpt {

__attribute__((target("sse4.2"))) uint32_t crc32c(const void* data, size_t n, uint32_t crc) {
  auto p = static_cast<const uint8_t*>(data);
  uint64_t c = ~crc;
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = __builtin_ia32_crc32di(c, v);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<uint32_t>(c);
  while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return ~c32;
}

}  // namespace ckpt
