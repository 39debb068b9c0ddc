// The --status line about the committed generation's images: how many are
// incremental, the longest chain, and how the processes tracked their
// writes (or why not), from each image's Lineage (ckpt/image_lineage.h).
#pragma once

#include <string>

namespace ckpt {

// "" when the directory holds no image with a Lineage section.
std::string lineage_status(const std::string& gen_dir);

}  // namespace ckpt
