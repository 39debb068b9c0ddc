// CPU masks and lists (see cpu_list.h).
#include "cpu_list.h"

#include <algorithm>

namespace ckpt::image {

std::vector<int> cpus_of_mask(std::string_view mask) {
  std::vector<int> cpus;
  for (size_t byte = 0; byte < mask.size(); byte++) {
    auto bits = static_cast<unsigned char>(mask[byte]);
    for (int b = 0; b < 8; b++)
      if (bits & (1u << b)) cpus.push_back(static_cast<int>(byte * 8 + b));
  }
  return cpus;
}

std::string cpu_list_text(const std::vector<int>& cpus) {
  if (cpus.empty()) return "none";
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) j++;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) out += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

std::vector<int> map_cpus_onto(const std::vector<int>& saved, const std::vector<int>& available) {
  std::vector<int> out;
  if (available.empty()) return out;
  for (int c : saved) out.push_back(available[static_cast<size_t>(c) % available.size()]);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace ckpt::image
