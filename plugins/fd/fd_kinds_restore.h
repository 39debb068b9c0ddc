// Recreating event descriptors (eventfd, timerfd, signalfd, epoll) from
// FdRecord::extra. Restart side.
#pragma once

#include <cstdint>
#include <string>

#include "ckpt/image_format.h"

namespace ckpt {

// A new descriptor (any number) for an eventfd/timerfd/signalfd record, or
// -1 with err.
int create_event_fd(const image::FdRecord& r, std::string* err);
// An epoll instance with the record's registrations (call once every other
// descriptor is in place).
int create_epoll(const image::FdRecord& r, std::string* err);

}  // namespace ckpt
