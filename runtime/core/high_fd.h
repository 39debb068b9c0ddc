// The runtime's own descriptors live at high numbers (near 1000, below the
// NOFILE limit), away from the low ones applications use and expect: a
// descriptor the runtime opens while the application runs must not shift
// the numbers the application's next open() returns.
#pragma once

namespace ckpt {

// Moves fd to the lowest free number >= `at` (fewer when the NOFILE soft
// limit is lower), close-on-exec; returns the new number, or fd unchanged
// if it cannot. Raw system calls (the checkpoint path).
int move_fd_high(int fd, long at = 1000);

}  // namespace ckpt
