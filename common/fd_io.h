// Whole reads and writes on a blocking descriptor (host side: CLIs,
// coordinator, ckpt_rsh): retried on EINTR and short counts.
#pragma once

#include <cstddef>

namespace ckpt {

// False on an error or, for read_all, an end of file before `n` bytes.
bool write_all(int fd, const void* data, size_t n);
bool read_all(int fd, void* data, size_t n);

}  // namespace ckpt
