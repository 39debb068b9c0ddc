// For the image fuzz targets: rewrites the checksums of an image held in
// memory (the file header's and each section's, as far as the section
// headers can be walked) so that a mutated image gets past its CRCs and
// reaches the decoders behind them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "ckpt/crc32c.h"
#include "ckpt/image_format.h"

namespace ckpt::fuzz {

inline void fix_image_crcs(std::vector<uint8_t>* bytes) {
  using image::FileHeader;
  using image::SectionHeader;
  std::vector<uint8_t>& b = *bytes;
  if (b.size() < sizeof(FileHeader)) return;
  FileHeader h;
  std::memcpy(&h, b.data(), sizeof(h));
  h.header_crc = crc32c(&h, offsetof(FileHeader, header_crc));
  std::memcpy(b.data(), &h, sizeof(h));
  size_t off = sizeof(FileHeader);
  while (b.size() - off >= sizeof(SectionHeader)) {
    SectionHeader s;
    std::memcpy(&s, b.data() + off, sizeof(s));
    off += sizeof(s);
    if (s.size > b.size() - off) return;
    s.crc = crc32c(b.data() + off, s.size);
    std::memcpy(b.data() + off - sizeof(s), &s, sizeof(s));
    off += s.size;
  }
}

}  // namespace ckpt::fuzz
