// ckpt_info's view of an image's lineage: full or incremental, how writes
// were tracked, and the chain of images down to the full one.
#pragma once

#include "common/image_reader.h"

namespace ckpt::image {

// "lineage", "tracking" and "chain" lines (images without Lineage: nothing).
void print_lineage(const LoadedImage& img);
// Pages a delta region keeps from its parent.
uint64_t kept_pages(const LoadedImage& img, uint32_t region);

}  // namespace ckpt::image
