// Which process of the computation owns an open file description: the
// topmost ancestor (still in the computation) holding the same description,
// found with kcmp(KCMP_FILE). Processes share descriptions mostly by
// inheritance, so ancestors are where to look; ckpt_restart creates each
// description once, in the owner, and hands it down the recreated tree.
// Checkpoint side, malloc-free.
#pragma once

#include <sys/stat.h>

#include <cstdint>

namespace ckpt {

struct FdOwner {
  int32_t pid;  // real pid when checkpointed
  int32_t fd;
};

// Collects this process's ancestors that are in the computation (call once
// per checkpoint, while every process is stopped).
void find_ancestors();
// The owner of `fd` (with stat `st`) of this process.
FdOwner fd_owner(int fd, const struct stat& st);

}  // namespace ckpt
