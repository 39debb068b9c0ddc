// CRC32C (Castagnoli) with the SSE4.2 instruction; used for every checksum of
// the image format that zstd does not already cover.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ckpt {

uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0);

}  // namespace ckpt
