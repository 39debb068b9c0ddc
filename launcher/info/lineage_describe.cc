// ckpt_info's lineage lines (see lineage_describe.h).
#include "lineage_describe.h"

#include <sys/stat.h>

#include <cstdio>

#include "common/image_chain.h"
#include "common/text.h"

namespace ckpt::image {
namespace {

std::string size_of(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? human_bytes(static_cast<uint64_t>(st.st_size)) : "?";
}

void print_link(const LoadedImage& img) {
  const bool full = !img.has_lineage || !img.lineage.parent_generation;
  std::printf("  gen %-6llu %-11s %10s  %s\n",
              static_cast<unsigned long long>(img.header.generation), full ? "full" : "incremental",
              size_of(img.path).c_str(), img.path.c_str());
}

}  // namespace

uint64_t kept_pages(const LoadedImage& img, uint32_t region) {
  uint64_t n = 0;
  for (const auto& k : img.kept)
    if (k.region == region)
      for (uint64_t w : k.bits) n += static_cast<uint64_t>(__builtin_popcountll(w));
  return n;
}

void print_lineage(const LoadedImage& img) {
  if (!img.has_lineage) return;
  const LineageRecord& l = img.lineage;
  std::printf("lineage    %s, chain length %u%s%s\n",
              l.parent_generation ? "incremental" : "full image", l.chain_length,
              l.note.empty() ? "" : ": ", std::string(l.note).c_str());
  std::printf("  tracking %s\n", tracking_name(l.tracking));
  if (!l.parent_generation) return;
  std::printf("  parent   generation %llu, %s, link crc 0x%08x\n",
              static_cast<unsigned long long>(l.parent_generation),
              std::string(l.parent_path).c_str(), l.parent_link_crc);
  std::vector<LoadedImage> ancestors;
  std::string err;
  bool ok = read_ancestors(img, false, &ancestors, &err);
  std::printf("chain      %zu images\n", ancestors.size() + 1);
  print_link(img);
  for (const auto& a : ancestors) print_link(a);
  if (!ok) std::printf("  broken: %s\n", err.c_str());
}

}  // namespace ckpt::image
