// Which generations --keep pruning must leave: the newest K committed ones
// and every generation an image of theirs builds on (an incremental image's
// chain, common/image_chain.h), so that a kept generation stays restartable.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace ckpt {

// `kept`: the generations kept by count; `gen_dir(g)`: where generation g's
// images are. Returns `kept` plus every generation their chains name.
std::set<uint64_t> generations_needed(const std::vector<uint64_t>& kept,
                                      const std::function<std::string(uint64_t)>& gen_dir);

}  // namespace ckpt
