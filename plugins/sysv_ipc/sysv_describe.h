// ckpt_info's printer of the SysvObjects section: semaphore sets and
// message queues with their keys and contents.
#pragma once

#include <vector>

#include "ckpt/image_format.h"

namespace ckpt {

// Prints the objects (nothing when there are none).
void print_sysv(const std::vector<image::SysvRecord>& objects);

}  // namespace ckpt
