// The --status line on incremental images (see lineage_status.h).
#include "lineage_status.h"

#include <filesystem>
#include <map>

#include "common/image_chain.h"

namespace ckpt {

std::string lineage_status(const std::string& gen_dir) {
  namespace fs = std::filesystem;
  size_t images = 0, incremental = 0;
  uint32_t longest = 0;
  std::map<std::string, size_t> tracking;  // "mode (note)" -> processes
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(gen_dir, ec)) {
    if (entry.path().extension() != ".img") continue;
    image::LineageInfo l;
    uint64_t generation = 0;
    if (!image::read_lineage(entry.path().string(), &generation, &l) || !l.present) continue;
    images++;
    incremental += l.parent_generation != 0;
    longest = std::max(longest, l.chain_length);
    std::string mode = image::tracking_name(l.tracking);
    if (l.tracking == image::Tracking::kNone && !l.note.empty()) mode += " (" + l.note + ")";
    tracking[mode]++;
  }
  if (!images) return "";
  std::string out = "images: " + std::to_string(images) + ", " + std::to_string(incremental) +
                    " incremental, longest chain " + std::to_string(longest) + "; dirty tracking: ";
  bool first = true;
  for (const auto& [mode, n] : tracking) {
    out += (first ? "" : ", ") + mode + (tracking.size() > 1 ? " x" + std::to_string(n) : "");
    first = false;
  }
  return out;
}

}  // namespace ckpt
