// Connection: one non-blocking peer socket with its input and output
// buffers. Reads whatever arrived, cuts it into frames, and queues frames to
// send until the socket accepts them.
#pragma once

#include <cstdint>
#include <vector>

#include "ckpt/byte_codec.h"
#include "ckpt/protocol.h"
#include "common/frame.h"
#include "common/scoped_fd.h"

namespace ckpt {

class Connection {
 public:
  explicit Connection(ScopedFd fd) : fd_(std::move(fd)) {}

  int fd() const { return fd_.get(); }

  enum class ReadStatus { kOpen, kClosed };
  // Reads until the socket would block. kClosed on EOF or error.
  ReadStatus read_available();

  enum class FrameStatus { kFrame, kNeedMore, kBad };
  // The next complete frame in the input buffer. kBad: oversized frame or
  // wrong protocol version (close the connection); *bad_version tells which.
  FrameStatus next_frame(Frame* out, bool* bad_version);

  void queue(proto::Msg type, const ByteWriter& payload) { append_frame(&out_, type, payload); }
  void queue(proto::Msg type) { queue(type, ByteWriter()); }
  template <typename Body>
  void queue_message(proto::Msg type, const Body& body) {
    append_message(&out_, type, body);
  }

  // Writes what the socket accepts. False on a write error.
  bool flush();
  bool has_output() const { return out_sent_ < out_.size(); }
  // Last chance before closing: blocks up to `timeout_ms` to send the rest.
  void flush_blocking(int timeout_ms);

 private:
  ScopedFd fd_;
  std::vector<uint8_t> in_;
  size_t in_used_ = 0;  // bytes of in_ already returned as frames
  std::vector<uint8_t> out_;
  size_t out_sent_ = 0;
};

}  // namespace ckpt
