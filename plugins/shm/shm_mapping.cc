// Which mappings are of a shared memory object (see shm_mapping.h).
#include "shm_mapping.h"

namespace ckpt {

bool is_shm_mapping(const MapEntry& e) {
  if (!e.shared) return false;
  if (e.inode == 0 || e.path.empty()) return true;  // MAP_SHARED|MAP_ANONYMOUS
  if (e.path[0] != '/') return false;               // [vdso] and friends
  return e.path.starts_with("/dev/zero") || e.path.starts_with("/SYSV") ||
         e.path.starts_with("/memfd:") || e.path.starts_with("/dev/shm/") || e.deleted;
}

}  // namespace ckpt
