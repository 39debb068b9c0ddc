// The sockets family's ckpt_info table: "unix stream connected local ->
// peer", backlog, queued bytes (plugins/fd/fd_describe_ops.h).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cstring>

#include "plugins/fd/fd_describe_ops.h"
#include "socket_state.h"

namespace ckpt {
namespace {

using image::FdRecord;

// A socket address as text: a UNIX path, @abstract, ip:port. The bytes come
// from the image at any alignment: copied into a sockaddr_storage first.
std::string address_text(std::string_view a) {
  if (a.empty()) return "-";
  sockaddr_storage ss = {};
  std::memcpy(&ss, a.data(), std::min(a.size(), sizeof(ss)));
  char buf[INET6_ADDRSTRLEN] = "?";
  if (ss.ss_family == AF_UNIX) {
    std::string_view path = a.substr(std::min(a.size(), sizeof(sa_family_t)));
    if (!path.empty() && path[0] == '\0') return "@" + printable(path.substr(1));
    return printable(path.substr(0, path.find('\0')));
  }
  if (ss.ss_family == AF_INET && a.size() >= sizeof(sockaddr_in)) {
    auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf));
    return std::string(buf) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (ss.ss_family == AF_INET6 && a.size() >= sizeof(sockaddr_in6)) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf));
    return "[" + std::string(buf) + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  return "?";
}

// "unix stream connected  local -> peer (peer inode), queued bytes".
std::string socket_text(const FdRecord& f) {
  SocketState st;
  if (f.extra.empty()) return "";
  if (!st.decode(f.extra)) return "  (socket state malformed)";
  const char* family = st.family == AF_UNIX ? "unix" : st.family == AF_INET ? "inet" : "inet6";
  const char* type = st.type == SOCK_STREAM  ? "stream"
                     : st.type == SOCK_DGRAM ? "dgram"
                                             : "seqpacket";
  const char* conn = st.conn == SocketConn::kListening   ? "listening"
                     : st.conn == SocketConn::kConnected ? "connected"
                                                         : "unconnected";
  std::string out =
      std::string("\n       ") + family + " " + type + " " + conn + " " + address_text(st.local);
  if (st.conn == SocketConn::kListening) out += " backlog " + std::to_string(st.backlog);
  if (st.conn == SocketConn::kConnected) out += " -> " + address_text(st.peer);
  if (st.peer_ino) out += " (peer inode " + std::to_string(st.peer_ino) + ")";
  size_t msgs = 0, bytes = 0;
  for_each_message(st.recv_queue, [&](std::string_view data, std::string_view) {
    msgs++;
    bytes += data.size();
  });
  if (msgs) out += ", " + std::to_string(bytes) + " bytes queued";
  if (msgs && st.type != SOCK_STREAM) out += " in " + std::to_string(msgs) + " messages";
  if (!st.send.empty()) out += ", " + std::to_string(st.send.size()) + " bytes to send";
  if (st.recv_seq || st.send_seq)  // TCP, read in repair mode
    out += ", seq recv " + std::to_string(st.recv_seq) + " send " + std::to_string(st.send_seq);
  if (st.shutdown) out += ", shutdown " + std::to_string(st.shutdown);
  return out;
}

constexpr FdKindName kSocketKinds[] = {{image::FdKind::kSocket, "socket"}};

}  // namespace

extern const FdDescribeOps kSocketDescribeOps{"sockets", kSocketKinds, socket_text};

}  // namespace ckpt
