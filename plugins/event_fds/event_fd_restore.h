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
// A new, empty epoll instance, or -1 with err.
int create_epoll(std::string* err);
// Adds the record's registrations to `ep` (call once every fd they name,
// other epolls included, is in place).
bool register_epoll(const image::FdRecord& r, int ep, std::string* err);

}  // namespace ckpt
