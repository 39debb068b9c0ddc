// libFuzzer target: the MemChunk codec. A chunk comes from an image file
// (see fuzz_image.cc), so decode_chunk_header and decode_chunk must refuse
// any malformed header, bitmap, size or zstd frame without writing outside
// the chunk's pages.
//
// The input is one MemChunk section payload (encoded ChunkHeader, then the
// payload). The destination is exactly page_count pages, so ASan sees any
// write past them. Inputs whose header decodes are also encoded again from
// the decoded pages and decoded once more: the round trip must give the
// same pages.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/chunk_codec.h"

namespace {

using ckpt::image::ChunkHeader;
using ckpt::image::kPageSize;

// Encodes `pages` (page_count pages) at zstd level 1 and decodes the result
// into fresh zero pages: they must equal `pages`.
void round_trip(const ChunkHeader& h, const uint8_t* pages) {
  static ckpt::image::ChunkEncoder encoder;
  static bool ready = encoder.init(1);
  if (!ready) std::abort();
  const size_t bytes = size_t{h.page_count} * kPageSize;
  std::vector<uint8_t> out(ckpt::image::kChunkHeaderSize + bytes + 4096);
  ckpt::ByteWriter w(out.data(), out.size());
  if (!encoder.encode(h.region, h.first_page, pages, h.page_count, h.bitmap, w)) std::abort();
  ChunkHeader again;
  if (!ckpt::image::decode_chunk_header(w.data(), w.size(), &again)) std::abort();
  std::vector<uint8_t> back(bytes);
  std::string err;
  if (!ckpt::image::decode_chunk(again, w.data() + ckpt::image::kChunkHeaderSize, back.data(),
                                 &err))
    std::abort();
  if (std::memcmp(back.data(), pages, bytes) != 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ChunkHeader h;
  if (!ckpt::image::decode_chunk_header(data, size, &h)) return 0;
  // The payload in a buffer of its own size, so that reading past it shows.
  const size_t payload_size = size - ckpt::image::kChunkHeaderSize;
  auto payload = std::make_unique<uint8_t[]>(payload_size ? payload_size : 1);
  std::memcpy(payload.get(), data + ckpt::image::kChunkHeaderSize, payload_size);
  std::vector<uint8_t> dest(size_t{h.page_count} * kPageSize);
  std::string err;
  if (ckpt::image::decode_chunk(h, payload.get(), dest.data(), &err)) round_trip(h, dest.data());
  return 0;
}
