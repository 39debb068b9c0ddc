// Incremental images (image_format.md, "Lineage and KeptPages"): the link
// from an image to the image of the previous generation it builds on, and
// which pages of its memory regions come from there.
//
// An image whose Lineage names no parent is full. One that names a parent
// stores, for each region with has_content = kContentDelta, only the pages
// written since the parent's checkpoint; its KeptPages section for that
// region says which other pages are the parent's (every page neither stored
// nor kept is zero). The parent is named by generation, path and link
// checksum (image_link_crc): a parent replaced, damaged or truncated does not
// match.
//
// The records and image_link_crc are malloc-free (the runtime's checkpoint
// path writes them and checks the parent).
#pragma once

#include <cstdint>
#include <string_view>

#include "ckpt/byte_codec.h"
#include "ckpt/image_format.h"

namespace ckpt::image {

// Section tags, added without a format version change: readers before them
// skip them with a warning, and would restore the parent's pages of an
// incremental image as zero (docs/image_format.md says so).
inline constexpr uint32_t kTagLineage = 32;
inline constexpr uint32_t kTagKeptPages = 33;

// RegionRecord::has_content: the region's stored pages are those written
// since the parent image; KeptPages names the parent's.
inline constexpr uint32_t kContentDelta = 3;

// How this process tracked its writes between checkpoints.
enum class Tracking : uint32_t {
  kNone = 0,       // not tracked: every checkpoint is full
  kUffdWp = 1,     // userfaultfd write-protect, async mode, with PAGEMAP_SCAN
  kSoftDirty = 2,  // soft-dirty bits (/proc/self/clear_refs, pagemap)
};

const char* tracking_name(Tracking t);

// Written in every image, before MemRegions.
struct LineageRecord {
  Tracking tracking = Tracking::kNone;
  std::string_view note;           // why tracking is off or this image is full ("" if none)
  uint64_t parent_generation = 0;  // 0: a full image
  uint32_t parent_link_crc = 0;    // image_link_crc of the parent
  uint32_t chain_length = 1;       // images from the last full one to this one, both included
  std::string_view parent_path;    // relative to this image's directory, or absolute

  void encode(ByteWriter& w) const;
  bool decode(ByteReader& r);
};

// One per region with has_content = kContentDelta, after MemRegions:
// `region u32, pages u64`, then ceil(pages / 64) u64 words, bit i (LSB first
// in word i / 64) = page i of the region is the parent's.
struct KeptPagesHeader {
  uint32_t region = 0;
  uint64_t pages = 0;
  static constexpr size_t kSize = 12;
  static uint64_t words(uint64_t pages) { return (pages + 63) / 64; }
};

// The link checksum of the image open on `fd`: CRC32C of its 96-byte file
// header followed by every 24-byte section header in file order, End
// included (each section header carries its payload's CRC, so the whole
// image is covered). *generation gets the header's generation. False if the
// file is not a complete image (no End section within its size).
bool image_link_crc(int fd, uint32_t* crc, uint64_t* generation);

}  // namespace ckpt::image
