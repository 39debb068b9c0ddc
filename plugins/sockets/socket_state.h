// The state of one socket as stored in FdRecord::extra (kind kSocket),
// shared by the checkpoint side (which encodes it, malloc-free) and the
// restart side (which decodes it). docs/image_format.md has the table.
//
//   family u16, type u16 (SOCK_STREAM/DGRAM/SEQPACKET), protocol u32
//   state u8 (SocketConn), shutdown u8 (1 = no more receives, 2 = no more
//   sends: the kernel's sk_shutdown bits), backlog u32 (listeners)
//   ino u64, peer_ino u64     UNIX: this socket's and its peer's inode
//                             (sock_diag UNIX_DIAG_PEER; 0 = no peer / gone)
//   local str, peer str       raw sockaddr bytes of getsockname/getpeername
//                             (IP addresses virtual: ckpt/address_map.h)
//                             (peer empty when not connected)
//   peek_off i32              SO_PEEK_OFF (-1 = off)
//   n_opts u32, n x {level i32, name i32, len u32 + bytes}
//   recv_seq u32, send_seq u32   TCP: rcv_nxt and write_seq (TCP_QUEUE_SEQ;
//                             each counts a FIN received/sent), 0 elsewhere
//   send str                  TCP: the send queue (snd_una .. write_seq);
//                             send_seq and send as taken in the Suspend
//                             phase (tcp_send_queues.h)
//   n_msgs u32, n x {data str, from str}   the receive queue: stream
//                             sockets one message with everything, datagram
//                             and seqpacket sockets one per message, with its
//                             source address (empty if none)
#pragma once

#include <cstdint>
#include <string_view>

#include "ckpt/byte_codec.h"

namespace ckpt {

enum class SocketConn : uint8_t {
  kUnconnected = 0,  // fresh or bound only
  kListening = 1,
  kConnected = 2,
};

// Options saved and restored as raw getsockopt bytes (an `int` for most).
struct SocketOption {
  int32_t level, name;
};

inline constexpr uint32_t kMaxSocketOptions = 32;

struct SocketState {
  uint16_t family = 0, type = 0;
  uint32_t protocol = 0;
  SocketConn conn = SocketConn::kUnconnected;
  uint8_t shutdown = 0;
  uint32_t backlog = 0;
  uint64_t ino = 0, peer_ino = 0;
  std::string_view local, peer;
  int32_t peek_off = -1;
  struct Opt {
    int32_t level, name;
    std::string_view value;
  } opts[kMaxSocketOptions];
  uint32_t n_opts = 0;
  uint32_t recv_seq = 0, send_seq = 0;
  std::string_view send;
  // The receive queue stays encoded: n_msgs u32, then {data str, from str}.
  std::string_view recv_queue;

  bool decode(std::string_view extra) {
    ByteReader in(extra.data(), extra.size());
    family = in.u16();
    type = in.u16();
    protocol = in.u32();
    conn = static_cast<SocketConn>(in.u8());
    shutdown = in.u8();
    backlog = in.u32();
    ino = in.u64();
    peer_ino = in.u64();
    local = in.str();
    peer = in.str();
    peek_off = static_cast<int32_t>(in.u32());
    n_opts = in.u32();
    if (n_opts > kMaxSocketOptions) return false;
    for (uint32_t i = 0; i < n_opts; i++) {
      opts[i].level = static_cast<int32_t>(in.u32());
      opts[i].name = static_cast<int32_t>(in.u32());
      opts[i].value = in.str();
    }
    recv_seq = in.u32();
    send_seq = in.u32();
    send = in.str();
    size_t at = in.pos();
    recv_queue = extra.substr(at < extra.size() ? at : extra.size());
    ByteReader q(recv_queue.data(), recv_queue.size());
    uint32_t n = q.u32();
    for (uint32_t i = 0; i < n && q.ok(); i++) {
      q.str();
      q.str();
    }
    return in.ok() && q.ok() && q.remaining() == 0 && conn <= SocketConn::kConnected;
  }
};

// Walks an encoded receive queue: for_each_message(q, f(data, from)).
template <typename F>
void for_each_message(std::string_view queue, F&& f) {
  ByteReader q(queue.data(), queue.size());
  uint32_t n = q.u32();
  for (uint32_t i = 0; i < n && q.ok(); i++) {
    std::string_view data = q.str();
    std::string_view from = q.str();
    if (q.ok()) f(data, from);
  }
}

}  // namespace ckpt
