// Chains of incremental images on the host side (ckpt_restart, ckpt_info,
// the coordinator's pruning): following an image's Lineage to its parent,
// checking each link, and filling the pages a delta region keeps from its
// ancestors (ckpt/image_lineage.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "image_reader.h"

namespace ckpt::image {

// The parent image's path, its Lineage path resolved against the directory
// of the image's real path; "" for a full image.
std::string parent_path(const LoadedImage& img);

// Reads every ancestor of `img`, parent first, and checks each link: the
// file is a valid image (every chunk CRC too when verify_chunks) of the
// generation the child names, with the link checksum it names. False with a
// one-line *err naming the first bad parent ("parent image P (generation N)
// of C: missing ..."); images before it stay restartable.
bool read_ancestors(const LoadedImage& img, bool verify_chunks, std::vector<LoadedImage>* out,
                    std::string* err);

// After load_memory(img, dest_for_region): copies into each delta region the
// pages it keeps, from the nearest ancestor that stores them (or leaves them
// zero where that ancestor has them zero). `ancestors` from read_ancestors.
bool load_kept_pages(const LoadedImage& img, const std::vector<LoadedImage>& ancestors,
                     const std::function<uint8_t*(uint32_t)>& dest_for_region, int threads,
                     std::string* err);

// An image's Lineage, read alone (a few section headers from the start).
struct LineageInfo {
  bool present = false;  // false: an image of a build before incremental images
  Tracking tracking = Tracking::kNone;
  std::string note;
  uint64_t parent_generation = 0;
  uint32_t chain_length = 1;
  std::string parent_path;  // as stored
};
bool read_lineage(const std::string& path, uint64_t* generation, LineageInfo* out);

// The generations an image's chain needs (its own first), from the Lineage
// of each file (no memory read, no checksum but the section's). Stops
// quietly at a missing or bad link.
std::vector<uint64_t> chain_generations(const std::string& path);

}  // namespace ckpt::image
