// Decompression threads per restored process (see decompression_workers.h).
#include "decompression_workers.h"

#include <sched.h>

#include <algorithm>
#include <cmath>

namespace ckpt {
namespace {

uint64_t stored_bytes(const image::LoadedImage& img) { return img.end.stored_bytes; }

unsigned usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

}  // namespace

double memory_share(const std::vector<image::LoadedImage>& images, size_t index) {
  uint64_t total = 0;
  for (const auto& img : images) total += stored_bytes(img);
  if (total == 0) return 1.0 / static_cast<double>(images.size());
  return static_cast<double>(stored_bytes(images[index])) / static_cast<double>(total);
}

unsigned decompression_workers(const image::LoadedImage& img, double share) {
  const unsigned cpus = usable_cpus();
  auto by_share = static_cast<unsigned>(std::ceil(share * cpus - 1e-9));
  auto by_work = static_cast<unsigned>(img.chunks.size() / 16 + 1);
  return std::clamp(std::min(by_share, by_work), 1u, cpus);
}

}  // namespace ckpt
