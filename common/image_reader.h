// Reading a checkpoint image (runtime/include/ckpt/image_format.h) for
// ckpt_restart and ckpt_info: validation of every header, checksum and count,
// parallel decompression of memory, and unlinked-file content.
//
// Every function here is safe on any input: a damaged, truncated or foreign
// file gives false and a one-line reason (without the path; callers prefix
// it), never a crash.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ckpt/image_format.h"
#include "ckpt/image_lineage.h"

namespace ckpt::image {

struct ChunkRef {
  ChunkHeader hdr;
  uint64_t payload_offset = 0;  // file offset of the chunk's payload bytes
  uint32_t section_crc = 0;     // CRC32C of the section (header encoding + payload)
};

struct FileDataRef {
  uint32_t index = 0;
  uint64_t offset = 0;  // file offset of the content
  uint64_t size = 0;
};

// A KeptPages section (ckpt/image_lineage.h): the pages of a delta region
// that are its parent's.
struct KeptPagesRef {
  uint32_t region = 0;
  std::vector<uint64_t> bits;  // one per page, (pages + 63) / 64 words
};

struct LoadedImage {
  std::string path;
  uint64_t file_size = 0;
  FileHeader header = {};
  ProcessRecord process;
  std::vector<ThreadRecord> threads;
  std::vector<SignalRecord> signals;
  std::vector<CpuAffinityRecord> affinity;  // empty in images without the section
  // The host's addresses at the checkpoint, virtual form (IPv4 mapped);
  // empty in images without the section.
  std::vector<in6_addr> host_addresses;
  std::vector<FdRecord> fds;
  std::vector<ShmRecord> shm_objects;
  std::vector<SysvRecord> sysv_objects;
  std::vector<JobDirRecord> job_dirs;  // empty in images without the section
  std::vector<RegionRecord> regions;
  std::vector<ChunkRef> chunks;
  std::vector<FileDataRef> file_data;
  EndRecord end;
  // Lineage (ckpt/image_lineage.h); absent in images before it: full.
  bool has_lineage = false;
  LineageRecord lineage;
  std::vector<KeptPagesRef> kept;
  uint32_t link_crc = 0;  // image_link_crc of this file, computed while reading
  std::vector<std::string> warnings;
  // The section payloads the string_views above point into (stable when the
  // LoadedImage is moved).
  std::vector<std::unique_ptr<uint8_t[]>> storage;
};

// Reads and validates the image: magic, version, arch, header CRC, every
// section header and CRC (chunk payload CRCs only when verify_chunks), section
// order and uniqueness, region/chunk consistency, End present and its counts.
// Unknown tags are skipped with a warning in out->warnings.
bool read_image(const std::string& path, bool verify_chunks, LoadedImage* out, std::string* err);

// Decompresses every chunk with `threads` workers (std::thread): pread, CRC of
// the section, decode_chunk into dest_for_region(region) + first_page*4096.
// dest_for_region is called once per region with content, from the calling
// thread, before any worker starts; nullptr means "skip this region". The
// destination pages must be zero (fresh mappings). Stops at the first failure.
bool load_memory(const LoadedImage& img, const std::function<uint8_t*(uint32_t)>& dest_for_region,
                 int threads, std::string* err);

// Like load_memory but decodes into scratch buffers: checks every chunk's CRC,
// zstd checksum and sizes without needing the memory.
bool verify_memory(const LoadedImage& img, int threads, std::string* err);

// The content of FileData `index` (an unlinked file), read whole or copied to
// out_fd at its current position.
bool read_file_data(const LoadedImage& img, uint32_t index, std::string* content, std::string* err);
bool copy_file_data(const LoadedImage& img, uint32_t index, int out_fd, std::string* err);

// Human name of a section tag ("Process", "MemChunk", ... or "0x1234").
std::string tag_name(uint32_t tag);

}  // namespace ckpt::image
