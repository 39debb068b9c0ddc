// Frames of the coordinator protocol as whole byte vectors: encoding one into
// a buffer, validating a received header, and naming message types. Shared by
// the coordinator and its blocking clients (CoordinatorLink).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ckpt/byte_codec.h"
#include "ckpt/protocol.h"

namespace ckpt {

struct Frame {
  proto::Msg type{};
  std::vector<uint8_t> payload;
  ByteReader reader() const { return ByteReader(payload.data(), payload.size()); }
};

enum class HeaderCheck { kOk, kTooLarge, kBadVersion };
HeaderCheck check_header(const proto::FrameHeader& header);

// Appends header + payload to *out.
void append_frame(std::vector<uint8_t>* out, proto::Msg type, const ByteWriter& payload);

// Appends a frame whose payload is `body` encoded (any struct with encode()).
template <typename Body>
void append_message(std::vector<uint8_t>* out, proto::Msg type, const Body& body) {
  ByteWriter w;
  body.encode(w);
  append_frame(out, type, w);
}

// Decodes a payload into `body`; false if it is malformed or truncated.
template <typename Body>
bool decode_payload(const Frame& frame, Body* body) {
  ByteReader r = frame.reader();
  return body->decode(r) && r.ok();
}

// "Suspend", "CmdReply", ... or "message 99".
std::string msg_name(proto::Msg type);

}  // namespace ckpt
