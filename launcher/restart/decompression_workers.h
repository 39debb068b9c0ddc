// How many threads decompress one process's memory at restart. Every
// process of the tree restores at once, so the CPUs this ckpt_restart may
// use are shared by stored bytes: a 1 GiB process next to a few small ones
// gets every CPU, 256 processes of 256 KiB get one each.
#pragma once

#include <cstddef>
#include <vector>

#include "common/image_reader.h"

namespace ckpt {

// The image's share (0..1] of the stored memory of all the images.
double memory_share(const std::vector<image::LoadedImage>& images, size_t index);
// Workers for an image with that share: at least 1, at most the usable CPUs
// (and at most one per 16 chunks, so a small process does not start
// threads it has no work for).
unsigned decompression_workers(const image::LoadedImage& img, double share);

}  // namespace ckpt
