// libFuzzer target: the coordinator protocol's framing and message decoders.
// Anyone who can reach the coordinator's port sends bytes that are cut into
// frames and decoded before the job secret is checked (Hello), and an
// authenticated peer's frames are decoded by type; processes decode the
// coordinator's frames the same way. None of this may crash on any bytes.
//
// The input is the byte stream of one connection. It goes through a real
// socket into the coordinator's Connection (buffering, header checks,
// splitting); each frame is decoded as the coordinator would (Hello first,
// then by type) and as every other message too, and rendezvous requests
// feed the coordinator's rendezvous bookkeeping.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "ckpt/protocol.h"
#include "common/frame.h"
#include "coordinator/connection.h"
#include "coordinator/rendezvous.h"

namespace {

using namespace ckpt;

// Decodes the payload as Body; keeps what the decoder returned in use.
template <typename Body>
size_t decode_as(const Frame& frame) {
  Body body;
  return decode_payload(frame, &body) ? sizeof(body) : 0;
}

void decode_as_everything(const Frame& frame) {
  decode_as<proto::Challenge>(frame);
  decode_as<proto::Welcome>(frame);
  decode_as<proto::TextMsg>(frame);
  decode_as<proto::Suspend>(frame);
  decode_as<proto::Resume>(frame);
  decode_as<proto::Suspended>(frame);
  decode_as<proto::Snapshot>(frame);
  decode_as<proto::Outside>(frame);
  decode_as<proto::Written>(frame);
  decode_as<proto::Kill>(frame);
  decode_as<proto::Preempt>(frame);
  decode_as<proto::CmdCheckpoint>(frame);
  decode_as<proto::CmdInterval>(frame);
  decode_as<proto::CmdHold>(frame);
  decode_as<proto::CmdStatus>(frame);
  decode_as<proto::CmdReply>(frame);
  proto::CmdReply reply;
  if (decode_payload(frame, &reply))
    proto::decode_blob_list(reply.text, [](std::string_view blob) { (void)blob.size(); });
  (void)msg_name(frame.type);
}

// The coordinator's first step: a Hello and its proof.
void authenticate(const Frame& frame) {
  static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  static const uint8_t nonce[proto::kNonceSize] = {};
  proto::Hello hello;
  if (frame.type != proto::Msg::kHello || !decode_payload(frame, &hello)) return;
  (void)proto::prove(key, nonce, hello.role);
  if (hello.process.has_nonce) (void)proto::prove(key, hello.process.nonce, hello.role);
}

void rendezvous(Rendezvous& rv, uint64_t waiter, const Frame& frame) {
  proto::CmdRendezvous req;
  if (frame.type != proto::Msg::kCmdRendezvous || !decode_payload(frame, &req)) return;
  rv.join(waiter, req.round, req.expected, req.members, req.blob,
          [](bool ok, const std::string& text) {
            if (ok) proto::decode_blob_list(text, [](std::string_view blob) { (void)blob.size(); });
          });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) return 0;
  ScopedFd writer(sv[1]);
  Connection conn{ScopedFd(sv[0])};
  Rendezvous rv;
  size_t sent = 0;
  bool first = true;
  uint64_t waiter = 0;
  // Whatever the socket takes, a piece at a time, as the event loop would.
  for (bool open = true; open;) {
    ssize_t n = sent < size ? ::send(writer.get(), data + sent, size - sent, MSG_NOSIGNAL) : 0;
    if (n > 0) sent += static_cast<size_t>(n);
    if (sent == size) ::shutdown(writer.get(), SHUT_WR);
    open = conn.read_available() == Connection::ReadStatus::kOpen;
    Frame frame;
    bool bad_version = false;
    for (;;) {
      Connection::FrameStatus fs = conn.next_frame(&frame, &bad_version);
      if (fs == Connection::FrameStatus::kBad) return 0;
      if (fs == Connection::FrameStatus::kNeedMore) break;
      if (first) authenticate(frame);
      first = false;
      decode_as_everything(frame);
      rendezvous(rv, ++waiter % 4, frame);
    }
  }
  return 0;
}
