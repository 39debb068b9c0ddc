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

// Saved CPUs (OS numbers, ascending) onto a node whose usable PUs are
// `available` (OS numbers in hwloc's logical order): CPU c goes to
// available[c % available.size()]. The result is ascending, without
// duplicates; empty when `available` is.
std::vector<int> map_cpus_onto(const std::vector<int>& saved, const std::vector<int>& available);

}  // namespace ckpt::image
