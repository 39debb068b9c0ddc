// Encoding and decoding of MemChunk sections: up to kChunkPages pages of one
// region, all-zero and never-touched pages left out, the rest compressed as
// one zstd frame with a content checksum (or stored raw when that does not pay).
//
// The encoder runs in the checkpoint path while application threads are
// stopped, possibly in raw clone()d workers that share another thread's TLS:
// it never calls malloc or any libc function beyond memcpy/memset/memcmp, and
// takes its memory from raw mmap (sys.h). The decoder runs at restart and in
// ckpt_info and may allocate.
#pragma once

#include <cstdint>
#include <string>

#include "ckpt/byte_codec.h"
#include "ckpt/image_format.h"

struct ZSTD_CCtx_s;

namespace ckpt::image {

// Encoded size of a ChunkHeader (fixed: region, flags, first_page,
// page_count, stored_pages, bitmap, payload_size).
inline constexpr size_t kChunkHeaderSize = 4 + 4 + 8 + 4 + 4 + kChunkPages / 8 + 8;

// True if the 4096 bytes at p are all zero (64-bit words, early exit).
bool page_is_zero(const uint8_t* p);

// One per worker thread. Not copyable; destroy() (or the destructor) returns
// the workspace.
class ChunkEncoder {
 public:
  ChunkEncoder() = default;
  ~ChunkEncoder() { destroy(); }
  ChunkEncoder(const ChunkEncoder&) = delete;
  ChunkEncoder& operator=(const ChunkEncoder&) = delete;

  // level 0 = store raw; otherwise a zstd level (negative levels are the
  // fast ones). Maps the zstd workspace and the staging buffers.
  bool init(int level);
  void destroy();

  // Encode pages [base, base + page_count*4096) of region `region`, which are
  // its pages first_page, first_page+1, ... page_count <= kChunkPages.
  // `present` (nullable): bit i set = page i may hold data; clear = known
  // all-zero or untouched, never read. Present pages that are all zero are
  // not stored. Appends the complete MemChunk section payload (encoded
  // ChunkHeader + payload) to `out`. A chunk with no stored page has an
  // empty payload (flags kChunkRaw). False if not initialized, page_count is
  // out of range or `out` overflowed.
  // keep_zero_pages: store present pages even when all zero (regions whose
  // absent pages mean "as in the file", not "zero"). copy_first: the pages
  // may change while being encoded (the writer's own stack and data); they
  // are copied first, so that the frame and its checksum agree.
  bool encode(uint32_t region, uint64_t first_page, const uint8_t* base, uint32_t page_count,
              const uint64_t* present, ByteWriter& out, bool keep_zero_pages = false,
              bool copy_first = false);

  // Pages stored by the last encode() (0 = the chunk holds only zero pages).
  uint32_t last_stored_pages() const { return last_stored_; }
  // Payload bytes of the last encode() (after compression).
  uint64_t last_payload_size() const { return last_payload_; }
  // How many encode() calls fell back to raw because zstd failed (not
  // because it did not pay): 0 unless the workspace was too small.
  uint64_t compress_errors() const { return compress_errors_; }

 private:
  int level_ = 0;
  bool ready_ = false;
  ZSTD_CCtx_s* cctx_ = nullptr;
  uint8_t* workspace_ = nullptr;  // zstd state, then staging, then dst
  size_t workspace_size_ = 0;
  uint8_t* staging_ = nullptr;  // gathered pages, kChunkPages * kPageSize
  uint8_t* dst_ = nullptr;      // compressed frame
  size_t dst_cap_ = 0;
  uint32_t last_stored_ = 0;
  uint64_t last_payload_ = 0;
  uint64_t compress_errors_ = 0;
};

// Decode a chunk into dest = address of its first page. Only stored pages are
// written: dest's other pages must already be zero (a fresh mapping). Checks
// the header, the frame's content checksum and every size. Error text in *err.
bool decode_chunk(const ChunkHeader& h, const uint8_t* payload, uint8_t* dest, std::string* err);

// Decode a ChunkHeader from exactly kChunkHeaderSize bytes followed (in the
// file) by a payload of `section_size - kChunkHeaderSize` bytes. False if
// malformed or if payload_size disagrees with the section size.
bool decode_chunk_header(const uint8_t* bytes, uint64_t section_size, ChunkHeader* h);

}  // namespace ckpt::image
