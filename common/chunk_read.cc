// One memory chunk read, checked and decoded (see chunk_read.h).
#include "chunk_read.h"

#include "chunk_codec.h"
#include "ckpt/crc32c.h"
#include "image_io.h"

namespace ckpt::image {

bool read_chunk(int fd, const ChunkRef& c, uint8_t* dest, std::vector<uint8_t>& payload,
                std::string* err) {
  const ChunkHeader& h = c.hdr;
  payload.resize(h.payload_size ? h.payload_size : 1);
  if (!pread_exact(fd, payload.data(), h.payload_size, c.payload_offset, err)) return false;
  uint8_t header[kChunkHeaderSize];
  ByteWriter w(header, sizeof(header));
  h.encode(w);
  if (crc32c(payload.data(), h.payload_size, crc32c(header, sizeof(header))) != c.section_crc) {
    *err = "memory chunk checksum mismatch";
    return false;
  }
  return decode_chunk(h, payload.data(), dest, err);
}

}  // namespace ckpt::image
