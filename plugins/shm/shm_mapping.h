// Which mappings are of a shared memory object (anonymous MAP_SHARED, a
// memfd, POSIX shm in /dev/shm, a SysV segment, a deleted file): decided from
// one /proc/self/maps entry. Pure and malloc-free.
#pragma once

#include "ckpt/maps.h"

namespace ckpt {

// Whether a maps entry is a mapping of a shared memory object.
bool is_shm_mapping(const MapEntry& e);

}  // namespace ckpt
