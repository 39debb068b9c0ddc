// Memory capture: which regions of the address space go into the image and
// how (RegionRecord), then their pages as MemChunk sections compressed in
// parallel by raw worker threads.
#pragma once

#include "ckpt/byte_codec.h"
#include "ckpt/image_format.h"
#include "ckpt/maps.h"
#include "fixed_string.h"

namespace ckpt::image {
class ImageWriter;
}

namespace ckpt {

class DirectImageSink;

inline constexpr int kMaxRegions = 16384;

struct MemoryPlan {
  ByteWriter maps_text;  // snapshot of /proc/self/maps; paths point into it
  image::RegionRecord* regions = nullptr;
  uint8_t* made_readable = nullptr;  // regions given PROT_READ for the capture
  int count = 0;
};

// e minus every range of runtime_ranges.h, as up to kMaxExcluded + 1 pieces.
int cut_excluded(const MapEntry& e, MapEntry* parts);
// Reads the settings (environment) now: a forked writer's view of the
// application's memory may be partial (copy_first.h).
void read_memory_settings();
// Snapshot the address space. `exclude`: ranges owned by the runtime.
bool plan_memory(MemoryPlan& plan, MessageString& err);
// MemRegions section, then every chunk. `level`: zstd level, 0 = raw. The
// chunks of a big image go to the disk directly through `sink`
// (direct_image_sink.h; CKPT_DIRECT_IO=0: never), which the writer's
// finish() finishes.
bool write_memory(MemoryPlan& plan, image::ImageWriter& writer, int level, DirectImageSink& sink,
                  MessageString& err);
// Undo temporary protections.
void finish_memory(MemoryPlan& plan);
// Regions the last plan found backed by transparent huge pages.
int huge_regions(const image::RegionRecord** regions, const uint32_t** indices);

}  // namespace ckpt
