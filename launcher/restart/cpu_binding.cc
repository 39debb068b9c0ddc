// Re-applying a saved CPU binding with hwloc (see cpu_binding.h).
#include "cpu_binding.h"

#include <hwloc.h>
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "common/cpu_list.h"

namespace ckpt {
namespace {

class Topology {
 public:
  Topology() {
    if (hwloc_topology_init(&topo_) != 0) return;
    if (hwloc_topology_load(topo_) != 0) {
      hwloc_topology_destroy(topo_);
      return;
    }
    loaded_ = true;
  }
  ~Topology() {
    if (loaded_) hwloc_topology_destroy(topo_);
  }
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;
  bool loaded() const { return loaded_; }
  hwloc_topology_t get() const { return topo_; }

  // OS numbers of the PUs this process may use, in logical order: allowed
  // on the node (cgroup) and in the binding ckpt_restart was started with
  // (a scheduler's), not the whole node.
  std::vector<int> available() const {
    std::vector<int> out;
    hwloc_bitmap_t usable = hwloc_bitmap_dup(hwloc_topology_get_allowed_cpuset(topo_));
    hwloc_bitmap_t bound = hwloc_bitmap_alloc();
    if (hwloc_get_cpubind(topo_, bound, HWLOC_CPUBIND_THREAD) == 0 && !hwloc_bitmap_iszero(bound))
      hwloc_bitmap_and(usable, usable, bound);
    int n = hwloc_get_nbobjs_by_type(topo_, HWLOC_OBJ_PU);
    for (int i = 0; i < n; i++) {
      hwloc_obj_t pu = hwloc_get_obj_by_type(topo_, HWLOC_OBJ_PU, static_cast<unsigned>(i));
      if (pu && hwloc_bitmap_isset(usable, pu->os_index))
        out.push_back(static_cast<int>(pu->os_index));
    }
    hwloc_bitmap_free(bound);
    hwloc_bitmap_free(usable);
    return out;
  }

 private:
  hwloc_topology_t topo_ = nullptr;
  bool loaded_ = false;
};

std::vector<int> saved_cpus(const image::LoadedImage& img) {
  std::set<int> all;
  for (const auto& a : img.affinity)
    for (int c : image::cpus_of_mask(a.mask)) all.insert(c);
  return {all.begin(), all.end()};
}

// The CPUs this thread may run on now (sorted); empty if unknown.
std::vector<int> current_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> out;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return out;
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, &set)) out.push_back(c);
  return out;
}

// The image's file name: program, rank and virtual pid.
std::string who(const image::LoadedImage& img) { return img.path.substr(img.path.rfind('/') + 1); }

}  // namespace

bool apply_cpu_binding(const image::LoadedImage& img, std::string* note, std::string* err) {
  std::vector<int> saved = saved_cpus(img);
  if (saved.empty()) return true;  // an image without the section
  // The usual case, without loading the topology (tens of ms, paid by every
  // process of a tree): the saved CPUs are exactly those this process may
  // use now, so there is nothing to bind.
  if (saved == current_cpus()) return true;
  Topology topo;
  if (!topo.loaded()) {
    *err = "hwloc cannot read this node's topology";
    return false;
  }
  std::vector<int> available = topo.available();
  std::vector<int> sorted = available;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int> target;
  if (std::includes(sorted.begin(), sorted.end(), saved.begin(), saved.end())) {
    if (saved == sorted) return true;  // every CPU: nothing to bind
    target = saved;
  } else {
    target = image::map_cpus_onto(saved, available);
    if (target.empty()) return true;
    *note = who(img) + ": saved CPUs " + image::cpu_list_text(saved) +
            " are not all available here; bound to CPUs " + image::cpu_list_text(target) +
            " instead (saved CPU number modulo the " + std::to_string(available.size()) +
            " available PUs)";
    if (target == sorted) return true;  // every CPU here: nothing to bind
  }
  hwloc_bitmap_t set = hwloc_bitmap_alloc();
  for (int c : target) hwloc_bitmap_set(set, static_cast<unsigned>(c));
  int r = hwloc_set_cpubind(topo.get(), set, HWLOC_CPUBIND_THREAD);
  int e = errno;
  hwloc_bitmap_free(set);
  if (r != 0) {
    *err = who(img) + ": cannot bind to CPUs " + image::cpu_list_text(target) + ": " +
           std::strerror(e);
    return false;
  }
  return true;
}

}  // namespace ckpt
