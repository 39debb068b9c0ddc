// SipHash-2-4, a keyed 64-bit PRF: proves knowledge of the job secret without
// sending it (protocol.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ckpt {

uint64_t siphash24(const uint8_t key[16], const void* data, size_t n);

}  // namespace ckpt
