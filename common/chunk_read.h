// Reading one memory chunk of an image on its own: its payload read at its
// offset, the section checksum checked, then decoded (chunk_codec.h). For
// readers that want chunks one at a time, in their own order (the lazy
// restart's filler).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "image_reader.h"

namespace ckpt::image {

// Decodes chunk `c` of the image open as `fd` into dest (its first page;
// only stored pages are written). `payload` is the caller's reusable buffer.
// False with a one-line reason ("memory chunk checksum mismatch", ...).
bool read_chunk(int fd, const ChunkRef& c, uint8_t* dest, std::vector<uint8_t>& payload,
                std::string* err);

}  // namespace ckpt::image
