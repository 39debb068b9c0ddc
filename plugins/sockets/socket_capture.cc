// Sockets, checkpoint side (see socket_capture.h and socket_state.h).
#include "socket_capture.h"

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "ckpt/sys.h"
#include "common/scoped_fd.h"
#include "netlink_request.h"
#include "plugins/fd/fd_capture_ops.h"
#include "socket_state.h"
#include "tcp_send_queues.h"

namespace ckpt {
namespace {

long get_opt(int fd, int level, int name, void* val, uint32_t* len) {
  return sys::call5(SYS_getsockopt, fd, level, name, reinterpret_cast<long>(val),
                    reinterpret_cast<long>(len));
}

long set_opt(int fd, int level, int name, int val) {
  return sys::call5(SYS_setsockopt, fd, level, name, reinterpret_cast<long>(&val), sizeof(val));
}

int get_int(int fd, int level, int name, int fallback) {
  int v = 0;
  uint32_t len = sizeof(v);
  return get_opt(fd, level, name, &v, &len) == 0 ? v : fallback;
}

// Addresses as the image stores them: IPv4 and IPv6 ones in their virtual
// form (net_addresses.h), others as they are.
struct VirtualNames {
  const AddressMap* map;
  int proto;

  void apply(sockaddr_storage* sa, uint32_t len) const {
    if (map && !map->empty()) map->to_virtual(proto, reinterpret_cast<sockaddr*>(sa), len);
  }
};

// getsockname (peer = false) or getpeername into `out` as a str; empty on
// error (ENOTCONN).
void put_name(int fd, bool peer, const VirtualNames& names, ByteWriter& out) {
  sockaddr_storage sa;
  uint32_t len = sizeof(sa);
  long r = sys::call3(peer ? SYS_getpeername : SYS_getsockname, fd, reinterpret_cast<long>(&sa),
                      reinterpret_cast<long>(&len));
  if (r != 0 || len > sizeof(sa)) len = 0;
  // An unnamed UNIX socket answers just its family: no name.
  if (sa.ss_family == AF_UNIX && len <= sizeof(sa_family_t)) len = 0;
  if (len > 0) names.apply(&sa, len);
  out.put_str(std::string_view(reinterpret_cast<const char*>(&sa), len));
}

bool has_peer_name(int fd) {
  sockaddr_storage sa;
  uint32_t len = sizeof(sa);
  return sys::call3(SYS_getpeername, fd, reinterpret_cast<long>(&sa),
                    reinterpret_cast<long>(&len)) == 0 &&
         !(sa.ss_family == AF_UNIX && len <= sizeof(sa_family_t));
}

// What sock_diag tells of a UNIX socket.
struct UnixDiag {
  bool ok = false;
  uint8_t state = 0;  // TCP_LISTEN, TCP_ESTABLISHED, TCP_CLOSE
  uint32_t peer = 0;
  uint32_t backlog = 0;  // listeners: UNIX_DIAG_RQLEN's wqueue
  uint8_t shutdown = 0;
};

UnixDiag unix_diag(uint64_t ino) {
  UnixDiag d;
  ScopedFd nl{sys::call3(SYS_socket, AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)};
  if (!nl) return d;
  unix_diag_req r = {};
  r.sdiag_family = AF_UNIX;
  r.udiag_states = ~0u;
  r.udiag_ino = static_cast<uint32_t>(ino);
  r.udiag_show = UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN;
  r.udiag_cookie[0] = r.udiag_cookie[1] = ~0u;  // INET_DIAG_NOCOOKIE
  if (!send_netlink_request(nl.get(), SOCK_DIAG_BY_FAMILY, 0, r)) return d;
  alignas(8) static char buf[8192];
  long n = sys::call6(SYS_recvfrom, nl.get(), reinterpret_cast<long>(buf), sizeof(buf), 0, 0, 0);
  if (n < static_cast<long>(sizeof(nlmsghdr) + sizeof(unix_diag_msg))) return d;
  auto* h = reinterpret_cast<const nlmsghdr*>(buf);
  if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len > static_cast<uint32_t>(n)) return d;
  auto* m = reinterpret_cast<const unix_diag_msg*>(buf + sizeof(nlmsghdr));
  if (m->udiag_ino != static_cast<uint32_t>(ino)) return d;
  d.ok = true;
  d.state = m->udiag_state;
  size_t at = sizeof(nlmsghdr) + NLMSG_ALIGN(sizeof(unix_diag_msg));
  while (at + sizeof(nlattr) <= h->nlmsg_len) {
    auto* a = reinterpret_cast<const nlattr*>(buf + at);
    if (a->nla_len < sizeof(nlattr) || at + a->nla_len > h->nlmsg_len) break;
    const char* v = buf + at + NLA_HDRLEN;
    if (a->nla_type == UNIX_DIAG_PEER && a->nla_len >= NLA_HDRLEN + 4)
      d.peer = *reinterpret_cast<const uint32_t*>(v);
    else if (a->nla_type == UNIX_DIAG_RQLEN && a->nla_len >= NLA_HDRLEN + 8)
      d.backlog = reinterpret_cast<const unix_diag_rqlen*>(v)->udiag_wqueue;
    else if (a->nla_type == UNIX_DIAG_SHUTDOWN && a->nla_len >= NLA_HDRLEN + 1)
      d.shutdown = *reinterpret_cast<const uint8_t*>(v);
    at += NLA_ALIGN(a->nla_len);
  }
  return d;
}

// The options worth keeping; each is restored only where it differs from a
// fresh socket's.
constexpr SocketOption kCommonOptions[] = {
    {SOL_SOCKET, SO_REUSEADDR}, {SOL_SOCKET, SO_REUSEPORT},    {SOL_SOCKET, SO_KEEPALIVE},
    {SOL_SOCKET, SO_BROADCAST}, {SOL_SOCKET, SO_RCVBUF},       {SOL_SOCKET, SO_SNDBUF},
    {SOL_SOCKET, SO_RCVLOWAT},  {SOL_SOCKET, SO_OOBINLINE},    {SOL_SOCKET, SO_PRIORITY},
    {SOL_SOCKET, SO_LINGER},    {SOL_SOCKET, SO_RCVTIMEO_OLD}, {SOL_SOCKET, SO_SNDTIMEO_OLD},
    {SOL_SOCKET, SO_PASSCRED},
};
constexpr SocketOption kTcpOptions[] = {
    {IPPROTO_TCP, TCP_NODELAY}, {IPPROTO_TCP, TCP_KEEPIDLE},     {IPPROTO_TCP, TCP_KEEPINTVL},
    {IPPROTO_TCP, TCP_KEEPCNT}, {IPPROTO_TCP, TCP_USER_TIMEOUT}, {IPPROTO_TCP, TCP_CORK},
};

void put_options(int fd, int family, bool tcp, ByteWriter& out) {
  size_t count_at = out.reserve(4);
  uint32_t n = 0;
  auto put = [&](const SocketOption& o) {
    alignas(8) char val[32];
    uint32_t len = sizeof(val);
    if (get_opt(fd, o.level, o.name, val, &len) != 0 || len > sizeof(val)) return;
    out.put_u32(static_cast<uint32_t>(o.level));
    out.put_u32(static_cast<uint32_t>(o.name));
    out.put_str(std::string_view(val, len));
    n++;
  };
  for (const auto& o : kCommonOptions)
    if (family != AF_UNIX || o.name != SO_REUSEPORT) put(o);
  if (tcp)
    for (const auto& o : kTcpOptions) put(o);
  if (family == AF_INET6) put({IPPROTO_IPV6, IPV6_V6ONLY});
  if (family == AF_INET) put({IPPROTO_IP, IP_TOS});
  out.patch_u32(count_at, n);
}

// One MSG_PEEK at the peek offset into `buf`; the source address into
// `from` (its length in *from_len). Returns the byte count (the whole
// datagram's with MSG_TRUNC) or -errno; *flags gets msg_flags.
long peek(int fd, void* buf, size_t len, bool datagram, sockaddr_storage* from, uint32_t* from_len,
          int* flags) {
  iovec iov = {buf, len};
  msghdr m = {};
  m.msg_name = from;
  m.msg_namelen = from ? sizeof(*from) : 0;
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  long n = sys::call3(SYS_recvmsg, fd, reinterpret_cast<long>(&m),
                      MSG_PEEK | MSG_DONTWAIT | (datagram ? MSG_TRUNC : 0));
  if (from_len) *from_len = n >= 0 ? m.msg_namelen : 0;
  *flags = m.msg_flags;
  return n;
}

bool fail(MessageString& err, int fd, std::string_view why) {
  err.append("fd ").append_int(fd).append(" (socket): ").append(why);
  return false;
}

// The receive queue, not consumed: n_msgs u32, then {data str, from str}.
// SO_PEEK_OFF is set to 0 so that each peek goes on where the last stopped,
// then put back.
bool put_recv_queue(int fd, int type, int peek_off, const VirtualNames& names, ByteWriter& out,
                    MessageString& err) {
  size_t count_at = out.reserve(4);
  uint32_t n = 0;
  bool datagram = type != SOCK_STREAM;
  bool stepping = set_opt(fd, SOL_SOCKET, SO_PEEK_OFF, 0) == 0;
  int pending = 0;
  if (!datagram && sys::call3(SYS_ioctl, fd, SIOCINQ, reinterpret_cast<long>(&pending)) < 0)
    pending = 0;
  bool ok = true;
  if (!datagram && pending > 0) {
    size_t len_at = out.reserve(4);
    size_t at = out.reserve(static_cast<size_t>(pending));
    long got = 0;
    while (!out.overflow() && got < pending) {
      int flags = 0;
      long r = peek(fd, out.mutable_data() + at + got, static_cast<size_t>(pending - got), false,
                    nullptr, nullptr, &flags);
      if (flags & MSG_CTRUNC) ok = fail(err, fd, "file descriptors in flight (SCM_RIGHTS)");
      if (r <= 0 || !ok) break;
      got += r;
      if (!stepping) break;
    }
    if (ok && got != pending) ok = fail(err, fd, "cannot copy the bytes in flight");
    out.truncate(at + static_cast<size_t>(got));
    out.patch_u32(len_at, static_cast<uint32_t>(got));
    out.put_str({});
    n = 1;
  }
  constexpr size_t kMaxDatagram = size_t{4} << 20;
  while (datagram && ok && n < (1u << 20)) {
    if (!stepping && n == 1) {
      ok = fail(err, fd, "SO_PEEK_OFF unsupported: cannot copy queued datagrams");
      break;
    }
    size_t len_at = out.reserve(4);
    size_t at = out.reserve(kMaxDatagram);
    if (out.overflow()) break;
    sockaddr_storage from;
    uint32_t from_len = 0;
    int flags = 0;
    long r = peek(fd, out.mutable_data() + at, kMaxDatagram, true, &from, &from_len, &flags);
    if (r <= 0) {  // EAGAIN: the end (a 0-byte datagram also ends the copy)
      out.truncate(len_at);
      break;
    }
    if ((flags & MSG_CTRUNC) || static_cast<size_t>(r) > kMaxDatagram) {
      ok = fail(err, fd,
                (flags & MSG_CTRUNC) ? "file descriptors in flight (SCM_RIGHTS)"
                                     : "a queued datagram larger than 4 MiB");
      break;
    }
    out.truncate(at + static_cast<size_t>(r));
    out.patch_u32(len_at, static_cast<uint32_t>(r));
    if (from_len > sizeof(from)) from_len = 0;
    if (from.ss_family == AF_UNIX && from_len <= sizeof(sa_family_t)) from_len = 0;
    if (from_len > 0) names.apply(&from, from_len);
    out.put_str(std::string_view(reinterpret_cast<const char*>(&from), from_len));
    n++;
  }
  if (stepping) set_opt(fd, SOL_SOCKET, SO_PEEK_OFF, peek_off);
  out.patch_u32(count_at, n);
  if (ok && out.overflow()) ok = fail(err, fd, "out of memory copying the bytes in flight");
  return ok;
}

// TCP_QUEUE_SEQ of queue `q` (TCP_RECV_QUEUE: rcv_nxt, TCP_SEND_QUEUE:
// write_seq), in repair mode.
uint32_t queue_seq(int fd, int q) {
  uint32_t seq = 0;
  uint32_t len = sizeof(seq);
  set_opt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, q);
  get_opt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, &seq, &len);
  return seq;
}

// TCP_REPAIR mode for the life of the object (CAP_NET_ADMIN), which nothing
// else notices: the process is stopped, and leaving repair mode only clears
// SO_REUSEADDR, which is put back. on: whether the socket took it.
struct RepairMode {
  int fd;
  int reuse;
  bool on;
  explicit RepairMode(int f)
      : fd(f),
        reuse(get_int(f, SOL_SOCKET, SO_REUSEADDR, 0)),
        on(set_opt(f, IPPROTO_TCP, TCP_REPAIR, 1) == 0) {}
  ~RepairMode() {
    if (!on) return;
    set_opt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE);
    set_opt(fd, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_OFF);
    set_opt(fd, SOL_SOCKET, SO_REUSEADDR, reuse);
  }
};

int unsent_bytes(int fd) {
  int unsent = 0;
  if (sys::call3(SYS_ioctl, fd, SIOCOUTQ, reinterpret_cast<long>(&unsent)) < 0) unsent = 0;
  return unsent;
}

// In repair mode: send_seq (write_seq), then the send queue [send_seq -
// size, send_seq) as a str. The queue only shrinks meanwhile (the process
// is stopped, ACKs go on): one peek, atomic under the socket's lock, copies
// it from its head, so it ends at write_seq whatever was ACKed since SIOCOUTQ.
bool put_send_queue(int fd, ByteWriter& out, MessageString& err) {
  out.put_u32(queue_seq(fd, TCP_SEND_QUEUE));
  int unsent = unsent_bytes(fd);
  size_t len_at = out.reserve(4);
  size_t at = out.reserve(unsent > 0 ? static_cast<size_t>(unsent) : 0);
  if (out.overflow()) return fail(err, fd, "out of memory copying the TCP send queue");
  long got = 0;
  if (unsent > 0) {
    int flags = 0;
    got = peek(fd, out.mutable_data() + at, static_cast<size_t>(unsent), false, nullptr, nullptr,
               &flags);
  }
  // While TCP_SEND_QUEUE is selected, data the kernel would transmit is
  // marked sent without going out: select it only around the peek.
  set_opt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE);
  if (got < 0 || got > unsent) return fail(err, fd, "cannot copy the TCP send queue");
  out.truncate(at + static_cast<size_t>(got));
  out.patch_u32(len_at, static_cast<uint32_t>(got));
  return true;
}

// A connected TCP socket: recv_seq, send_seq, the send queue, then the
// receive queue. The send queue was normally taken in the Suspend phase
// (tcp_send_queues.h); else it is read now. The receive queue is peeked in
// repair mode, between two reads of rcv_nxt that must agree, so that
// recv_seq is the end of the bytes saved.
bool put_tcp_queues(int fd, const struct stat& st, int peek_off, const VirtualNames& names,
                    ByteWriter& out, MessageString& err) {
  int unsent = unsent_bytes(fd);
  std::string_view taken;
  bool pre_taken = taken_tcp_send_queue(st.st_dev, st.st_ino, &taken);
  RepairMode repair(fd);
  if (!repair.on) {
    out.put_u32(0);
    out.put_u32(0);
    out.put_str({});
    if (unsent > 0)
      return fail(err, fd, "TCP data not yet received by the peer needs CAP_NET_ADMIN to be saved");
    return put_recv_queue(fd, SOCK_STREAM, peek_off, names, out, err);
  }
  ByteWriter recv;
  uint32_t recv_seq = 0;
  bool ok = true;
  for (int attempt = 0; attempt < 5; attempt++) {
    recv.clear();
    recv_seq = queue_seq(fd, TCP_RECV_QUEUE);
    ok = put_recv_queue(fd, SOCK_STREAM, peek_off, names, recv, err);
    if (!ok || queue_seq(fd, TCP_RECV_QUEUE) == recv_seq) break;
  }
  if (!ok) return false;
  out.put_u32(recv_seq);
  if (pre_taken)
    out.put_bytes(taken.data(), taken.size());
  else if (!put_send_queue(fd, out, err))
    return false;
  out.put_bytes(recv.data(), recv.size());
  return !out.overflow();
}

bool tcp_connected(uint8_t state) {
  switch (state) {
    case TCP_ESTABLISHED:
    case TCP_FIN_WAIT1:
    case TCP_FIN_WAIT2:
    case TCP_CLOSE_WAIT:
    case TCP_LAST_ACK:
    case TCP_CLOSING:
      return true;
    default:
      return false;
  }
}

uint8_t tcp_shutdown(uint8_t state) {
  uint8_t bits = 0;
  if (state == TCP_FIN_WAIT1 || state == TCP_FIN_WAIT2 || state == TCP_CLOSING ||
      state == TCP_LAST_ACK)
    bits |= 2;  // SEND_SHUTDOWN: we sent our FIN
  if (state == TCP_CLOSE_WAIT || state == TCP_LAST_ACK || state == TCP_CLOSING)
    bits |= 1;  // RCV_SHUTDOWN: the peer's FIN arrived
  return bits;
}

}  // namespace

bool take_tcp_send_queue(int fd, ByteWriter& out, bool* taken, MessageString& err) {
  *taken = false;
  int family = get_int(fd, SOL_SOCKET, SO_DOMAIN, -1);
  if ((family != AF_INET && family != AF_INET6) ||
      get_int(fd, SOL_SOCKET, SO_TYPE, -1) != SOCK_STREAM ||
      get_int(fd, SOL_SOCKET, SO_PROTOCOL, -1) != IPPROTO_TCP)
    return true;
  tcp_info info = {};
  uint32_t len = sizeof(info);
  if (get_opt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 || !tcp_connected(info.tcpi_state))
    return true;
  RepairMode repair(fd);
  if (!repair.on) return true;  // the snapshot says why, if it matters
  *taken = put_send_queue(fd, out, err);
  return *taken;
}

bool capture_socket(int fd, const struct stat& st, ByteWriter& out, MessageString& err,
                    const AddressMap* addresses) {
  int family = get_int(fd, SOL_SOCKET, SO_DOMAIN, -1);
  int type = get_int(fd, SOL_SOCKET, SO_TYPE, -1);
  int protocol = get_int(fd, SOL_SOCKET, SO_PROTOCOL, -1);
  bool unix_sock =
      family == AF_UNIX && (type == SOCK_STREAM || type == SOCK_DGRAM || type == SOCK_SEQPACKET);
  bool tcp =
      (family == AF_INET || family == AF_INET6) && type == SOCK_STREAM && protocol == IPPROTO_TCP;
  bool udp =
      (family == AF_INET || family == AF_INET6) && type == SOCK_DGRAM && protocol == IPPROTO_UDP;
  if (!unix_sock && !tcp && !udp) {
    err.append("fd ").append_int(fd).append(" is a socket of family ").append_int(family);
    err.append(", type ").append_int(type).append(", protocol ").append_int(protocol);
    err.append(": ckpt restores UNIX, TCP and UDP sockets only");
    return false;
  }
  SocketConn conn = SocketConn::kUnconnected;
  uint8_t shutdown = 0;
  uint32_t backlog = 0;
  uint64_t peer_ino = 0;
  if (unix_sock) {
    UnixDiag d = unix_diag(st.st_ino);
    if (!d.ok) return fail(err, fd, "sock_diag (NETLINK_SOCK_DIAG, unix_diag) does not answer");
    conn = d.state == TCP_LISTEN        ? SocketConn::kListening
           : d.state == TCP_ESTABLISHED ? SocketConn::kConnected
                                        : SocketConn::kUnconnected;
    // A datagram socket that another one connected to is "established"
    // too: connected means having a peer.
    if (type == SOCK_DGRAM && !d.peer && !has_peer_name(fd)) conn = SocketConn::kUnconnected;
    shutdown = d.shutdown;
    backlog = d.backlog;
    peer_ino = d.peer;
  } else if (tcp) {
    tcp_info info = {};
    uint32_t len = sizeof(info);
    get_opt(fd, IPPROTO_TCP, TCP_INFO, &info, &len);
    if (info.tcpi_state == TCP_LISTEN) {
      conn = SocketConn::kListening;
      backlog = info.tcpi_sacked;  // sk_max_ack_backlog for a listener
    } else if (tcp_connected(info.tcpi_state)) {
      conn = SocketConn::kConnected;
      shutdown = tcp_shutdown(info.tcpi_state);
    }
  } else if (has_peer_name(fd)) {
    conn = SocketConn::kConnected;
  }
  out.put_u16(static_cast<uint16_t>(family));
  out.put_u16(static_cast<uint16_t>(type));
  out.put_u32(static_cast<uint32_t>(protocol));
  out.put_u8(static_cast<uint8_t>(conn));
  out.put_u8(shutdown);
  out.put_u32(backlog);
  out.put_u64(st.st_ino);
  out.put_u64(peer_ino);
  const VirtualNames names = {addresses, protocol};
  put_name(fd, false, names, out);
  put_name(fd, true, names, out);
  int peek_off = get_int(fd, SOL_SOCKET, SO_PEEK_OFF, -1);
  out.put_u32(static_cast<uint32_t>(peek_off));
  put_options(fd, family, tcp, out);
  if (tcp && conn == SocketConn::kConnected)
    return put_tcp_queues(fd, st, peek_off, names, out, err);
  out.put_u32(0);
  out.put_u32(0);
  out.put_str({});
  if (conn == SocketConn::kListening) {
    out.put_u32(0);
    return !out.overflow();
  }
  return put_recv_queue(fd, type, peek_off, names, out, err);
}

// The sockets family's capture table (see plugins/fd/fd_capture_ops.h).
namespace {

image::FdKind classify_socket(const struct stat& st, std::string_view) {
  return S_ISSOCK(st.st_mode) ? image::FdKind::kSocket : image::FdKind::kOther;
}

bool capture_socket_fd(const FdFacts& f, const AddressMap* addresses, ByteWriter& extra,
                       MessageString& err) {
  return capture_socket(f.fd, f.st, extra, err, addresses);
}

}  // namespace

extern const FdCaptureOps kSocketCaptureOps{
    .family = "sockets", .classify = classify_socket, .capture = capture_socket_fd};

}  // namespace ckpt
