// The process tree of a checkpointed computation, rebuilt from its images:
// who is whose parent (virtual pids), which children were zombies, which
// process ckpt_restart itself becomes (the main root: the one the user
// launched), and the other roots (processes whose parent was not part of
// the computation, such as daemons adopted by init).
#pragma once

#include <string>
#include <vector>

#include "common/image_reader.h"

namespace ckpt {

struct TreeNode {
  int32_t vpid = 0, vppid = 0, vpgid = 0, vsid = 0;
  int parent = -1;            // node index; -1 for a root
  std::vector<int> children;  // node indices, by virtual pid
  std::vector<image::ChildRecord> zombies;
};

struct ProcessTree {
  std::vector<TreeNode> nodes;  // one per image, in the images' order
  int main_root = 0;
  std::vector<int> other_roots;

  int find(int32_t vpid) const;  // node index or -1
};

// Checks that the images form one computation (one generation, distinct
// virtual pids) and links them. Error: one line.
bool build_tree(const std::vector<image::LoadedImage>& images, ProcessTree* out, std::string* err);

}  // namespace ckpt
