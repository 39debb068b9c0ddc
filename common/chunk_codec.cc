// MemChunk encoder (malloc-free, zstd with a static context over raw mmap)
// and decoder (see chunk_codec.h).
#include "chunk_codec.h"

#include <sys/mman.h>

#include <cstring>
#include <memory>

#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "ckpt/sys.h"

namespace ckpt::image {
namespace {

using Word [[gnu::may_alias]] = uint64_t;

constexpr size_t kChunkBytes = size_t{kChunkPages} * kPageSize;

bool bit(const uint64_t* bitmap, uint32_t i) { return (bitmap[i / 64] >> (i % 64)) & 1; }

uint8_t* map_anon(size_t n) {
  long p = sys::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p < 0 && p > -4096) return nullptr;
  return reinterpret_cast<uint8_t*>(p);
}

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

// Stored pages form one contiguous run [first, first + count)?
bool contiguous(const uint64_t* bitmap, uint32_t page_count, uint32_t stored, uint32_t* first) {
  uint32_t i = 0;
  while (i < page_count && !bit(bitmap, i)) i++;
  *first = i;
  uint32_t j = i;
  while (j < page_count && bit(bitmap, j)) j++;
  return j - i == stored;
}

}  // namespace

bool page_is_zero(const uint8_t* p) {
  auto w = reinterpret_cast<const Word*>(p);
  if (w[0] | w[kPageSize / 8 - 1]) return false;  // most data pages fail here
  for (size_t i = 0; i < kPageSize / 8; i += 16) {
    Word acc = 0;
    for (size_t k = 0; k < 16; k++) acc |= w[i + k];
    if (acc) return false;
  }
  return true;
}

bool ChunkEncoder::init(int level) {
  destroy();
  level_ = level;
  if (level != 0) {
    if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) return false;
    ZSTD_compressionParameters cp = ZSTD_getCParams(level, kChunkBytes, 0);
    size_t zstd_size = round_up(ZSTD_estimateCCtxSize_usingCParams(cp) + 64 * 1024, kPageSize);
    dst_cap_ = round_up(ZSTD_compressBound(kChunkBytes), kPageSize);
    workspace_size_ = zstd_size + kChunkBytes + dst_cap_;
    workspace_ = map_anon(workspace_size_);
    if (!workspace_) return false;
    staging_ = workspace_ + zstd_size;
    dst_ = staging_ + kChunkBytes;
    cctx_ = ZSTD_initStaticCCtx(workspace_, zstd_size);
    if (!cctx_ || ZSTD_isError(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 0)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_contentSizeFlag, 1))) {
      destroy();
      return false;
    }
  }
  ready_ = true;
  return true;
}

void ChunkEncoder::destroy() {
  if (workspace_) sys::munmap(workspace_, workspace_size_);
  workspace_ = staging_ = dst_ = nullptr;
  workspace_size_ = dst_cap_ = 0;
  cctx_ = nullptr;
  ready_ = false;
}

bool ChunkEncoder::encode(uint32_t region, uint64_t first_page, const uint8_t* base,
                          uint32_t page_count, const uint64_t* present, ByteWriter& out,
                          bool keep_zero_pages, bool copy_first) {
  last_stored_ = 0;
  last_payload_ = 0;
  if (!ready_ || page_count == 0 || page_count > kChunkPages) return false;
  ChunkHeader h;
  h.region = region;
  h.first_page = first_page;
  h.page_count = page_count;
  for (uint32_t i = 0; i < page_count; i++) {
    if (present && !bit(present, i)) continue;
    if (!keep_zero_pages && page_is_zero(base + size_t{i} * kPageSize)) continue;
    h.bitmap[i / 64] |= uint64_t{1} << (i % 64);
    h.stored_pages++;
  }
  const size_t stored_bytes = size_t{h.stored_pages} * kPageSize;
  uint32_t run_first = 0;
  const bool one_run = !copy_first && contiguous(h.bitmap, page_count, h.stored_pages, &run_first);
  const uint8_t* src = nullptr;  // the stored pages, in order, contiguous
  if (one_run) {
    src = base + size_t{run_first} * kPageSize;
  } else if (cctx_) {
    uint8_t* at = staging_;
    for (uint32_t i = 0; i < page_count; i++) {
      if (!bit(h.bitmap, i)) continue;
      std::memcpy(at, base + size_t{i} * kPageSize, kPageSize);
      at += kPageSize;
    }
    src = staging_;
  }

  size_t csize = 0;
  if (cctx_ && stored_bytes > 0) {
    csize = ZSTD_compress2(cctx_, dst_, dst_cap_, src, stored_bytes);
    if (ZSTD_isError(csize)) {
      compress_errors_++;
      csize = 0;
    }
  }
  // Compression must save at least ~5% to be worth a decompression.
  const bool compressed = csize > 0 && csize < stored_bytes - stored_bytes / 20;
  h.flags = compressed ? 0 : kChunkRaw;
  h.payload_size = compressed ? csize : stored_bytes;
  h.encode(out);
  if (compressed) {
    out.put_bytes(dst_, csize);
  } else if (src) {
    out.put_bytes(src, stored_bytes);
  } else {
    for (uint32_t i = 0; i < page_count; i++)
      if (bit(h.bitmap, i)) out.put_bytes(base + size_t{i} * kPageSize, kPageSize);
  }
  last_stored_ = h.stored_pages;
  last_payload_ = h.payload_size;
  return !out.overflow();
}

bool decode_chunk_header(const uint8_t* bytes, uint64_t section_size, ChunkHeader* h) {
  if (section_size < kChunkHeaderSize) return false;
  // ChunkHeader::decode reads exactly kChunkHeaderSize bytes and then checks
  // payload_size against what remains, so the reader spans the whole section
  // although only the header's bytes are in memory.
  ByteReader r(bytes, section_size);
  if (!h->decode(r) || r.pos() != kChunkHeaderSize) return false;
  return h->payload_size == section_size - kChunkHeaderSize;
}

namespace {

bool fail(std::string* err, std::string msg) {
  if (err) *err = std::move(msg);
  return false;
}

struct DctxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

ZSTD_DCtx* thread_dctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DctxFree> dctx(ZSTD_createDCtx());
  return dctx.get();
}

bool decode_frame(const ChunkHeader& h, const uint8_t* payload, uint8_t* out, size_t want,
                  std::string* err) {
  ZSTD_frameHeader fh;
  if (ZSTD_getFrameHeader(&fh, payload, h.payload_size) != 0 || fh.frameType != ZSTD_frame)
    return fail(err, "bad zstd frame header");
  if (fh.frameContentSize != want) return fail(err, "zstd frame holds the wrong number of bytes");
  if (ZSTD_findFrameCompressedSize(payload, h.payload_size) != h.payload_size)
    return fail(err, "zstd frame size disagrees with the chunk header");
  ZSTD_DCtx* d = thread_dctx();
  if (!d) return fail(err, "out of memory for a zstd context");
  size_t n = ZSTD_decompressDCtx(d, out, want, payload, h.payload_size);
  if (ZSTD_isError(n)) return fail(err, std::string("zstd: ") + ZSTD_getErrorName(n));
  if (n != want) return fail(err, "zstd frame decompressed to the wrong size");
  return true;
}

}  // namespace

bool decode_chunk(const ChunkHeader& h, const uint8_t* payload, uint8_t* dest, std::string* err) {
  if (h.page_count == 0 || h.page_count > kChunkPages || h.stored_pages > h.page_count)
    return fail(err, "bad chunk header");
  uint32_t set = 0;
  for (uint32_t i = 0; i < kChunkPages; i++) {
    if (!bit(h.bitmap, i)) continue;
    if (i >= h.page_count) return fail(err, "chunk bitmap has pages beyond the chunk");
    set++;
  }
  if (set != h.stored_pages) return fail(err, "chunk bitmap disagrees with its page count");
  const size_t want = size_t{h.stored_pages} * kPageSize;
  uint32_t run_first = 0;
  const bool one_run = contiguous(h.bitmap, h.page_count, h.stored_pages, &run_first);
  if (h.flags != 0 && h.flags != kChunkRaw) return fail(err, "unknown chunk flags");
  if (h.flags == kChunkRaw) {
    if (h.payload_size != want) return fail(err, "raw chunk has the wrong payload size");
    const uint8_t* p = payload;
    for (uint32_t i = 0; i < h.page_count; i++) {
      if (!bit(h.bitmap, i)) continue;
      std::memcpy(dest + size_t{i} * kPageSize, p, kPageSize);
      p += kPageSize;
    }
    return true;
  }
  if (want == 0) return fail(err, "compressed chunk without pages");
  if (one_run) return decode_frame(h, payload, dest + size_t{run_first} * kPageSize, want, err);
  thread_local std::unique_ptr<uint8_t[]> scratch(new uint8_t[kChunkBytes]);
  if (!decode_frame(h, payload, scratch.get(), want, err)) return false;
  const uint8_t* p = scratch.get();
  for (uint32_t i = 0; i < h.page_count; i++) {
    if (!bit(h.bitmap, i)) continue;
    std::memcpy(dest + size_t{i} * kPageSize, p, kPageSize);
    p += kPageSize;
  }
  return true;
}

}  // namespace ckpt::image
