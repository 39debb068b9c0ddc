// Wake-ups of the checkpoint thread from signal handlers: a handler posts an
// event bit and writes to an eventfd that the checkpoint thread polls
// beside its coordinator socket. Async-signal-safe.
#pragma once

#include <cstdint>

#include "runtime.h"

namespace ckpt {

enum RuntimeEvent : uint32_t {
  kEventPreempt = 1,
  kEventCheckpointRequest = 2,  // the application asked for a checkpoint (app_requests.h)
};

bool init_events(Runtime& rt);  // creates rt.event_fd (again, after a restart)
void post_event(Runtime& rt, uint32_t events);
uint32_t take_events(Runtime& rt);

}  // namespace ckpt
