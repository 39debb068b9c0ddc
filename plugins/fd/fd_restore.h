// The fd plugin, restart side: reopens every descriptor of the image at its
// number (files by path at their offset and flags, dup'd fds sharing one
// open file description, unlinked files recreated from their saved content),
// rolls written files back to their size at the checkpoint, and closes
// everything else ckpt_restart had open. Stdio that was a terminal or a pipe
// becomes ckpt_restart's own.
#pragma once

#include <string>

#include "image_reader.h"

namespace ckpt {

struct FdRestoreOptions {
  bool file_rollback = true;
};

// Checks, before anything is changed, that every file can be reopened.
bool check_fds(const image::LoadedImage& img, std::string* err);
// Performs the restore. On failure the process is in no state to go on.
bool restore_fds(const image::LoadedImage& img, const FdRestoreOptions& opts, std::string* err);

}  // namespace ckpt
