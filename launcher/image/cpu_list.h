// CPU masks as the image stores them (CpuAffinityRecord: sched_getaffinity
// words, bit c = CPU c) and as people read them ("0-3,8").
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ckpt::image {

// The CPUs set in a saved mask, ascending.
std::vector<int> cpus_of_mask(std::string_view mask);
// "0-3,8,10-11"; "none" for an empty list.
std::string cpu_list_text(const std::vector<int>& cpus);

}  // namespace ckpt::image
