// ckpt_info's printer of the SysvObjects section (see sysv_describe.h).
#include "sysv_describe.h"

#include <cinttypes>
#include <cstdio>

namespace ckpt {

using namespace image;

void print_sysv(const std::vector<SysvRecord>& objects) {
  if (objects.empty()) return;
  std::printf("sysv       %zu semaphore sets and message queues\n", objects.size());
  for (auto& o : objects) {
    bool sems = o.kind == SysvKind::kSemaphores;
    std::printf("  %-10s id %-8d key 0x%08x mode %04o  ", sems ? "semaphores" : "messages", o.id,
                static_cast<uint32_t>(o.key), o.mode);
    if (sems)
      std::printf("%u semaphores\n", o.count);
    else
      std::printf("%u messages, %zu bytes, qbytes %" PRIu64 "\n", o.count, o.data.size(), o.qbytes);
  }
}

}  // namespace ckpt
