// Which image files a ckpt_restart command line names: image paths (often
// the $CKPT_DIR/ckpt_*.img links) or a checkpoint directory, resolved to the
// generation they belong to at this moment.
#pragma once

#include <string>
#include <vector>

namespace ckpt {

struct Selection {
  std::vector<std::string> images;  // real paths inside one generation
  std::string ckpt_dir;             // the checkpoint directory they came from
};

// Error: one line.
bool select_images(const std::vector<std::string>& args, Selection* out, std::string* err);

}  // namespace ckpt
