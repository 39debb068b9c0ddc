// Reading /proc/self/fdinfo/N: generic fields (pos, flags) and the
// kind-specific lines of eventfd, timerfd, signalfd and epoll descriptors.
// Malloc-free (checkpoint path).
#pragma once

#include <cstdint>
#include <string_view>

namespace ckpt {

// Reads /proc/self/fdinfo/<fd> into buf; returns the text ("" on failure).
std::string_view read_fdinfo_text(int fd, char* buf, size_t size);
// The number after `name` (e.g. "pos:"), in `base`; false if absent.
bool fdinfo_number(std::string_view text, std::string_view name, int base, uint64_t& out);
// For "it_value: (1, 2)": the two numbers.
bool fdinfo_pair(std::string_view text, std::string_view name, uint64_t& a, uint64_t& b);

}  // namespace ckpt
