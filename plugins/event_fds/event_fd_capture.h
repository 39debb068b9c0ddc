// Kind-specific state of event descriptors (eventfd, timerfd, signalfd,
// epoll) for FdRecord::extra, read from fdinfo. Checkpoint side, malloc-free.
#pragma once

#include <string_view>

#include "ckpt/byte_codec.h"
#include "ckpt/image_format.h"

namespace ckpt {

// Kind of an anonymous-inode descriptor from its /proc/self/fd link.
image::FdKind anon_inode_kind(std::string_view target);
// Appends the state of `kind` described by `fdinfo` to out.
void capture_event_fd(image::FdKind kind, std::string_view fdinfo, ByteWriter& out);

}  // namespace ckpt
