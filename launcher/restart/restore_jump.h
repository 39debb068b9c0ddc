// The last steps of ckpt_restart: fill the RestoreArgs in the hole, copy the
// restorer blob next to them, list what of ckpt_restart must go, and jump.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ckpt/address_map.h"
#include "ckpt/restore_args.h"
#include "common/image_reader.h"
#include "memory_plan.h"
#include "plugins/shm/shm_restore.h"

namespace ckpt {

struct JumpSettings {
  std::string coord_host;  // numeric IPv4
  uint16_t coord_port = 0;
  uint8_t secret[16] = {};
  std::string ckpt_dir;
  bool file_rollback = true;
  std::vector<std::pair<int32_t, int32_t>> pid_map;  // virtual -> real, where they differ
  const ShmRestorer* shm = nullptr;                  // the shared memory objects
  // System V semaphore sets and message queues whose id changed.
  std::vector<std::pair<int32_t, int32_t>> semid_map, msgid_map;
  // Virtual -> real network addresses; nullptr: nothing moved.
  const AddressMap* addresses = nullptr;
};

// Space the hole needs for a given image.
uint64_t hole_size_for(const image::LoadedImage& img);

// Fills everything but the unmap list. Error: one line.
bool prepare_restore_args(const image::LoadedImage& img, const MemoryPlan& plan,
                          const JumpSettings& settings, RestoreArgs** out, std::string* err);

// Lists ckpt_restart's mappings (raw syscalls, no allocation) and jumps into
// the restorer. Never returns.
[[noreturn]] void jump_to_restorer(RestoreArgs* args, const MemoryPlan& plan);

}  // namespace ckpt
