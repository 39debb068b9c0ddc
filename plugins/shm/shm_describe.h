// ckpt_info's printer of the ShmObjects section: each shared memory object,
// its kind, identity, size and (SysV) key.
#pragma once

#include <vector>

#include "ckpt/image_format.h"

namespace ckpt {

// Prints the objects (nothing when there are none).
void print_shm(const std::vector<image::ShmRecord>& objects);

}  // namespace ckpt
