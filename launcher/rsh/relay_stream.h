// The byte stream between the two halves of ckpt_rsh (ckpt_rsh.cc): the
// launching side (beside mpirun) and the remote side (beside the remote
// daemon) talk over one TCP connection that both of them, being under
// checkpoint control, keep across checkpoints and restarts. Frames: one type
// byte, a 32-bit length (little endian), the data.
//
//   kHello   remote -> local   the launch cookie (proves which launch it is)
//   kStdout  remote -> local   bytes the remote command wrote to stdout
//   kStderr  remote -> local   bytes it wrote to stderr
//   kStdin   local -> remote   bytes for its stdin
//   kStdinEof local -> remote  stdin is at its end
//   kExit    remote -> local   its exit status (4 bytes): the last frame
#pragma once

#include <cstdint>
#include <string>

#include "common/fd_io.h"

namespace ckpt::rsh {

enum class FrameType : uint8_t { kHello = 1, kStdout, kStderr, kStdin, kStdinEof, kExit };

constexpr size_t kMaxFrame = 1 << 20;

using ckpt::read_all;  // common/fd_io.h
using ckpt::write_all;

bool send_frame(int fd, FrameType type, const void* data, size_t n);
// Reads one frame; false at the end of the stream or on a malformed frame.
bool recv_frame(int fd, FrameType* type, std::string* data);

// Reads what is there from `from` (one read) and sends it as a `type` frame.
// Returns the bytes read (0 at end of file, -1 on error).
long forward_read(int from, int sock, FrameType type);

}  // namespace ckpt::rsh
