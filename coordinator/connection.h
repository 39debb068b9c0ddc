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
  // The next complete frame in the input buffer. kBad: a frame larger than
  // the limit (told by its header, before anything is allocated for it) or a
  // wrong protocol version (close the connection); *bad_version tells which.
  FrameStatus next_frame(Frame* out, bool* bad_version);
  // The largest payload accepted (proto::kMaxFrame unless lowered): a peer
  // that has not authenticated may only send a small Hello.
  void set_frame_limit(uint32_t bytes) { frame_limit_ = bytes; }
  // Part of a frame arrived and the rest did not.
  bool has_partial_input() const { return in_.size() > in_used_; }
  // Forgets what arrived and was not taken as frames (a peer being closed).
  void discard_input();

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
  uint32_t frame_limit_ = proto::kMaxFrame;
  std::vector<uint8_t> out_;
  size_t out_sent_ = 0;
};

}  // namespace ckpt
