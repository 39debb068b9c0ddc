// Does a checkpoint dir hold a committed checkpoint? True when
// <dir>/ckpt_latest names a generation dir that holds its MANIFEST (written
// just before the commit point, see coordinator/generation_store.h). Used by
// ckpt_launch --restart-if-exists to restart instead of starting afresh.
#pragma once

#include <cstdint>
#include <string>

namespace ckpt {

// The committed generation's number (0 if none); *gen_dir gets its path.
uint64_t committed_generation(const std::string& ckpt_dir, std::string* gen_dir);

}  // namespace ckpt
