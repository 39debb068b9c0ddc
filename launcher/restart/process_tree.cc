// The process tree of a computation (see process_tree.h).
#include "process_tree.h"

#include <algorithm>

namespace ckpt {

int ProcessTree::find(int32_t vpid) const {
  for (size_t i = 0; i < nodes.size(); i++)
    if (nodes[i].vpid == vpid) return static_cast<int>(i);
  return -1;
}

bool build_tree(const std::vector<image::LoadedImage>& images, ProcessTree* out, std::string* err) {
  ProcessTree& t = *out;
  t.nodes.clear();
  t.other_roots.clear();
  for (const auto& img : images) {
    if (img.header.generation != images[0].header.generation) {
      *err = img.path + " is from checkpoint " + std::to_string(img.header.generation) + ", " +
             images[0].path + " from checkpoint " + std::to_string(images[0].header.generation) +
             ": give the images of one checkpoint";
      return false;
    }
    TreeNode n;
    n.vpid = img.process.vpid;
    n.vppid = img.process.vppid;
    n.vpgid = img.process.vpgid;
    n.vsid = img.process.vsid;
    if (t.find(n.vpid) >= 0) {
      *err = img.path + ": another image is also virtual pid " + std::to_string(n.vpid);
      return false;
    }
    std::string_view raw = img.process.children;
    ByteReader in(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
    while (in.remaining() >= image::ChildRecord::kSize) {
      image::ChildRecord c;
      if (c.decode(in) && c.state == image::ChildState::kZombie) n.zombies.push_back(c);
    }
    t.nodes.push_back(std::move(n));
  }
  std::vector<int> roots;
  for (size_t i = 0; i < t.nodes.size(); i++) {
    int parent = t.find(t.nodes[i].vppid);
    t.nodes[i].parent = parent;
    if (parent >= 0)
      t.nodes[parent].children.push_back(static_cast<int>(i));
    else
      roots.push_back(static_cast<int>(i));
  }
  for (auto& n : t.nodes)
    std::sort(n.children.begin(), n.children.end(),
              [&](int a, int b) { return t.nodes[a].vpid < t.nodes[b].vpid; });
  // The main root is the launched program: a root not adopted by init, the
  // oldest (lowest virtual pid) if there are several.
  std::sort(roots.begin(), roots.end(), [&](int a, int b) {
    bool adopted_a = t.nodes[a].vppid == 1, adopted_b = t.nodes[b].vppid == 1;
    if (adopted_a != adopted_b) return adopted_b;
    return t.nodes[a].vpid < t.nodes[b].vpid;
  });
  t.main_root = roots[0];
  t.other_roots.assign(roots.begin() + 1, roots.end());
  return true;
}

}  // namespace ckpt
