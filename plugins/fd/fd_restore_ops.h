// The operations a descriptor family offers ckpt_restart: one table per
// family, on the model of CRIU's fdtype_ops. FdRestorer (fd_restore.h)
// creates each open file description through the table of its kind; a new
// family adds its table to fd_restore_families.cc.
#pragma once

#include <span>
#include <string>

#include "ckpt/image_format.h"

namespace ckpt {

namespace image {
struct LoadedImage;
}
struct FdRestoreOptions;
struct FdTables;

// What a family's create() may use.
struct FdRestoreContext {
  const image::LoadedImage& img;  // the image of the process that owns the description
  const FdRestoreOptions& opts;
  FdTables& tables;  // the families' restart-wide state (fd_restore.h)
  // A terminal or pipe that leads outside the computation: ckpt_restart's
  // own descriptor of that number if it has one, else /dev/null.
  int (*adopt_terminal)(const image::FdRecord& r);
};

struct FdRestoreOps {
  const char* family;
  std::span<const image::FdKind> kinds;  // the kinds it creates
  // A new descriptor (any number) for the description of r, or -1 with err.
  int (*create)(FdRestoreContext& c, const image::FdRecord& r, std::string* err);
};

// The table that creates descriptions of kind k, or null.
const FdRestoreOps* fd_restore_ops(image::FdKind k);

}  // namespace ckpt
