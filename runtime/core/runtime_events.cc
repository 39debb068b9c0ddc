// Checkpoint-thread wake-ups (see runtime_events.h).
#include "runtime_events.h"

#include <sys/eventfd.h>
#include <sys/syscall.h>

#include "ckpt/sys.h"
#include "on_demand_server.h"

namespace ckpt {

bool init_events(Runtime& rt) {
  long fd = sys::call2(SYS_eventfd2, 0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return false;
  long high = sys::fcntl(static_cast<int>(fd), 1030 /* F_DUPFD_CLOEXEC */, 1001);
  if (high >= 0) {
    sys::close(static_cast<int>(fd));
    fd = high;
  }
  rt.event_fd = static_cast<int>(fd);
  return true;
}

void post_event(Runtime& rt, uint32_t events) {
  rt.pending_events.fetch_or(events);
  uint64_t one = 1;
  if (rt.event_fd >= 0) sys::write(rt.event_fd, &one, sizeof(one));
  wake_on_demand_server();  // no thread polls the eventfd between checkpoints
}

uint32_t take_events(Runtime& rt) {
  uint64_t count;
  if (rt.event_fd >= 0) sys::read(rt.event_fd, &count, sizeof(count));
  return rt.pending_events.exchange(0);
}

}  // namespace ckpt
