// Where everything goes during a restart: the image's target regions, the
// temporary mappings that are filled first (somewhere free of those targets
// and of ckpt_restart itself), the hole for the restorer, and the vDSO moves.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ckpt/restore_args.h"
#include "common/image_reader.h"

namespace ckpt {

struct TempRegion {
  uint32_t region;  // index in LoadedImage::regions, or UINT32_MAX for an extension
  uint64_t temp;    // where it is filled
  uint64_t target;
  uint64_t len;
  uint32_t prot;
  image::RegionKind kind;
};

struct MemoryPlan {
  uint64_t reserve_start = 0, reserve_len = 0;  // hole + temps, one reservation
  uint64_t hole_start = 0, hole_len = 0;
  uint64_t temp_start = 0, temp_len = 0;
  std::vector<TempRegion> temps;       // private and shared-anonymous memory
  std::vector<uint32_t> shared_files;  // regions mapped MAP_SHARED from files
  std::vector<uint32_t> shm_regions;   // mappings of shared memory objects (shm_restore.h)
  std::vector<RestoreMove> specials;   // current vvar/vdso -> image addresses
  uint64_t parking_len = 0;
};

// Plans and reserves the address space. hole_size: bytes the caller needs
// in the hole (args, restorer, stack). Error: one line.
bool plan_memory(const image::LoadedImage& img, uint64_t hole_size, MemoryPlan* plan,
                 std::string* err);
// Maps the temporaries (inside the reservation) so they can be filled. A
// private file mapping stored by reference is mapped from its file, which
// must still have the size and modification time it had at the checkpoint.
// Checks that the files the image's memory refers to are those of the
// checkpoint (before anything changes).
bool check_referenced_files(const image::LoadedImage& img, std::string* err);
bool map_temporaries(const image::LoadedImage& img, const MemoryPlan& plan, std::string* err);

}  // namespace ckpt
