// Incremental images on the runtime side: the chain policy (a full image
// every CKPT_FULL_EVERY-th checkpoint, or once the chain's incremental images
// together pass CKPT_CHAIN_MAX_PERCENT of its full image), the Lineage
// section, and for each private anonymous region tracked since the parent
// (dirty_tracking.h) its KeptPages section and the pages its chunks store.
//
// Each step runs where its input is frozen:
//   check_parent_image()   before the pause, the application running: reads
//                          the parent image's link checksum;
//   plan_incremental()     in the pause: scans the dirty pages, decides;
//   write_lineage(), mark_delta_region(), write_kept_pages(),
//   delta_chunk_pages()    in the writer (forked child or inline);
//   note_image_written(), note_generation_committed()  bookkeeping.
// Malloc-free (the checkpoint path).
#pragma once

#include <cstdint>
#include <string_view>

#include "ckpt/image_format.h"
#include "fixed_string.h"

namespace ckpt::image {
class ImageWriter;
}

namespace ckpt {

// An image file as its writer left it: its link checksum (image_lineage.h)
// and the file's inode, size and modification time after the final fsync.
// The next checkpoint checks its parent against it with one fstat instead of
// reading every section header back (from the disk, after a direct write).
struct ImageIdentity {
  bool known = false;
  uint32_t link_crc = 0;
  uint64_t ino = 0, size = 0, mtime_ns = 0;
};

void check_parent_image();
void plan_incremental(uint64_t generation, std::string_view image_path);
// Whether the image being taken is incremental (after plan_incremental).
bool incremental_planned();
// The memory an incremental image stores at most: the pages written since
// its parent (0 for a full image).
uint64_t delta_bytes_planned();
bool write_lineage(image::ImageWriter& w, MessageString& err);
// Marks a region kContentDelta when this image is incremental and the
// region was tracked since the parent.
void mark_delta_region(image::RegionRecord& r);
bool write_kept_pages(const image::RegionRecord* regions, int count, image::ImageWriter& w,
                      MessageString& err);
// The pages of a chunk of a delta region written since the parent (bits
// as ChunkEncoder's `present`); false when there is none (no chunk).
bool delta_chunk_pages(uint32_t region, uint64_t first_page, uint32_t pages, uint64_t* bits);
// After write_memory: frees the writer's page maps.
void release_delta_pages();

void note_image_written(uint64_t generation, uint64_t bytes, const ImageIdentity& identity);
void note_generation_committed(uint64_t generation);

// A forked child of the application: no image of its own yet.
void forget_incremental_state();
// After a restart: nothing tracked; the next image is full.
void incremental_after_restart();

}  // namespace ckpt
