// Generations kept for the chains of kept ones (see chain_keep.h).
#include "chain_keep.h"

#include <filesystem>

#include "common/image_chain.h"

namespace ckpt {

std::set<uint64_t> generations_needed(const std::vector<uint64_t>& kept,
                                      const std::function<std::string(uint64_t)>& gen_dir) {
  namespace fs = std::filesystem;
  std::set<uint64_t> needed(kept.begin(), kept.end());
  for (uint64_t gen : kept) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(gen_dir(gen), ec)) {
      if (entry.path().extension() != ".img") continue;
      for (uint64_t g : image::chain_generations(entry.path().string())) needed.insert(g);
    }
  }
  return needed;
}

}  // namespace ckpt
