// ckpt_info's printer of the ShmObjects section (see shm_describe.h).
#include "shm_describe.h"

#include <cinttypes>
#include <cstdio>

#include "common/text.h"

namespace ckpt {

using namespace image;

namespace {

const char* shm_kind_name(ShmKind k) {
  switch (k) {
    case ShmKind::kAnon:
      return "anon";
    case ShmKind::kMemfd:
      return "memfd";
    case ShmKind::kNamed:
      return "named";
    case ShmKind::kDeleted:
      return "deleted";
    case ShmKind::kSysV:
      return "sysv";
  }
  return "?";
}

}  // namespace

void print_shm(const std::vector<ShmRecord>& objects) {
  if (objects.empty()) return;
  std::printf("shm        %zu shared memory objects\n", objects.size());
  for (auto& o : objects) {
    std::printf("  %-7s dev %" PRIx64 ":%" PRIx64 " ino %-8" PRIu64 " %10s  mode %04o",
                shm_kind_name(o.kind), o.dev >> 32, o.dev & 0xffffffff, o.ino,
                human_bytes(o.size).c_str(), o.mode);
    if (o.kind == ShmKind::kSysV)
      std::printf("  key 0x%08x shmid %d%s", static_cast<uint32_t>(o.key), o.shmid,
                  (o.flags & kShmRemoved) ? " removed" : "");
    if (!o.path.empty()) std::printf("  %s", printable(o.path).c_str());
    std::printf("\n");
  }
}

}  // namespace ckpt
