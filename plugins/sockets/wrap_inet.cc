// IPv4 and IPv6 socket addresses: after a restart that moved hosts or
// endpoints (net_addresses.h), the application keeps the addresses it knew.
// What it passes to the kernel (connect, bind, sendto, sendmsg, sendmmsg) is
// rewritten virtual -> real on a copy, never in the caller's buffer; what
// the kernel returns (getsockname, getpeername, accept, accept4, recvfrom,
// recvmsg, recvmmsg) is rewritten real -> virtual, through a
// sockaddr_storage so that a short caller's buffer gets the truncated
// virtual form and the full length, as from the kernel.
//
// After a restart that packed old hosts onto one host, new ports are taken
// in the class of the old address they speak for (port_claim.h): bind to
// port 0, and connect or a send with an address on a socket not bound yet.
//
// Fast path: with an empty map (every process that was never restarted
// with moves) each wrapper is the real call and one load. These wrappers
// do not defer checkpoints: connect, accept and the receives block, and the
// map only changes at a restart, before the application's threads exist.
#include <errno.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <cstring>

#include "ckpt/sys.h"
#include "net_addresses.h"
#include "port_claim.h"
#include "runtime/shim/real_functions.h"

using ckpt::address_map;
using ckpt::real;

namespace {

constexpr unsigned kMaxVlen = 1024;  // the kernel's UIO_MAXIOV for sendmmsg/recvmmsg

bool is_inet(const void* sa, socklen_t len) {
  if (!sa || len < sizeof(sa_family_t)) return false;
  sa_family_t family;
  std::memcpy(&family, sa, sizeof(family));
  return family == AF_INET || family == AF_INET6;
}

// The socket's protocol (IPPROTO_TCP, IPPROTO_UDP, ...); a raw call, errno
// untouched.
int socket_proto(int fd) {
  int proto = 0;
  socklen_t len = sizeof(proto);
  if (ckpt::sys::call5(SYS_getsockopt, fd, SOL_SOCKET, SO_PROTOCOL, reinterpret_cast<long>(&proto),
                       reinterpret_cast<long>(&len)) != 0)
    return 0;
  return proto;
}

// The address to hand to the kernel: `sa` itself, or its real form in `copy`.
const sockaddr* outgoing(int fd, const sockaddr* sa, socklen_t len, sockaddr_storage* copy) {
  if (!is_inet(sa, len) || len > sizeof(*copy)) return sa;
  std::memcpy(copy, sa, len);
  auto* c = reinterpret_cast<sockaddr*>(copy);
  return address_map().to_real(socket_proto(fd), c, len) ? c : sa;
}

// The kernel wrote `got_len` bytes of address into `got`: its virtual form
// goes to the caller's `user` (capacity `cap`), the length to *user_len.
void incoming(int fd, sockaddr_storage* got, socklen_t got_len, void* user, socklen_t cap,
              socklen_t* user_len) {
  if (got_len > sizeof(*got)) got_len = sizeof(*got);
  if (is_inet(got, got_len))
    address_map().to_virtual(socket_proto(fd), reinterpret_cast<sockaddr*>(got), got_len);
  std::memcpy(user, got, cap < got_len ? cap : got_len);
  *user_len = got_len;
}

// Whether an incoming address needs the detour: a map and a buffer to
// fill (the map first: with none, nothing of the caller's is read).
bool wants_incoming(const void* addr, const socklen_t* len) {
  return !address_map().empty() && addr && len && static_cast<int>(*len) >= 0;
}

// A socket about to connect or send to `addr` unbound takes its port
// (port_claim.h).
void claim_port(int fd, const sockaddr* addr, socklen_t len) {
  if (is_inet(addr, len) && (address_map().own(true) || address_map().own(false)))
    ckpt::claim_before_connect(address_map(), fd, socket_proto(fd), addr, len);
}

}  // namespace

CKPT_WRAPPER int connect(int fd, const sockaddr* addr, socklen_t len) {
  if (address_map().empty()) return real().connect(fd, addr, len);
  claim_port(fd, addr, len);
  sockaddr_storage copy;
  return real().connect(fd, outgoing(fd, addr, len, &copy), len);
}

CKPT_WRAPPER int bind(int fd, const sockaddr* addr, socklen_t len) {
  if (address_map().empty()) return real().bind(fd, addr, len);
  sockaddr_storage copy;
  const sockaddr* to = outgoing(fd, addr, len, &copy);
  int rc;
  if (is_inet(addr, len) &&
      ckpt::bind_in_class(address_map(), fd, socket_proto(fd), addr, to, len, &rc))
    return rc;
  return real().bind(fd, to, len);
}

CKPT_WRAPPER ssize_t sendto(int fd, const void* buf, size_t n, int flags, const sockaddr* addr,
                            socklen_t len) {
  if (address_map().empty()) return real().sendto(fd, buf, n, flags, addr, len);
  claim_port(fd, addr, len);
  sockaddr_storage copy;
  return real().sendto(fd, buf, n, flags, outgoing(fd, addr, len, &copy), len);
}

CKPT_WRAPPER ssize_t sendmsg(int fd, const msghdr* msg, int flags) {
  if (address_map().empty() || !msg || !is_inet(msg->msg_name, msg->msg_namelen))
    return real().sendmsg(fd, msg, flags);
  claim_port(fd, static_cast<const sockaddr*>(msg->msg_name), msg->msg_namelen);
  msghdr m = *msg;
  sockaddr_storage copy;
  m.msg_name = const_cast<sockaddr*>(
      outgoing(fd, static_cast<const sockaddr*>(msg->msg_name), msg->msg_namelen, &copy));
  return real().sendmsg(fd, &m, flags);
}

// In batches of copies whose names are translated; msg_len goes back to
// the caller's vector. Stops at the first batch the kernel did not finish.
CKPT_WRAPPER int sendmmsg(int fd, mmsghdr* v, unsigned int n, int flags) {
  if (address_map().empty() || !v) return real().sendmmsg(fd, v, n, flags);
  if (n > kMaxVlen) n = kMaxVlen;
  bool named = false;
  for (unsigned i = 0; i < n && !named; i++)
    named = is_inet(v[i].msg_hdr.msg_name, v[i].msg_hdr.msg_namelen);
  if (!named) return real().sendmmsg(fd, v, n, flags);
  constexpr unsigned kBatch = 16;
  unsigned done = 0;
  while (done < n) {
    mmsghdr batch[kBatch];
    sockaddr_storage names[kBatch];
    unsigned k = n - done < kBatch ? n - done : kBatch;
    for (unsigned i = 0; i < k; i++) {
      batch[i] = v[done + i];
      const msghdr& h = v[done + i].msg_hdr;
      batch[i].msg_hdr.msg_name = const_cast<sockaddr*>(
          outgoing(fd, static_cast<const sockaddr*>(h.msg_name), h.msg_namelen, &names[i]));
    }
    int r = real().sendmmsg(fd, batch, k, flags);
    if (r < 0) return done > 0 ? static_cast<int>(done) : r;
    for (int i = 0; i < r; i++) v[done + i].msg_len = batch[i].msg_len;
    done += static_cast<unsigned>(r);
    if (static_cast<unsigned>(r) < k) break;
  }
  return static_cast<int>(done);
}

CKPT_WRAPPER int getsockname(int fd, sockaddr* addr, socklen_t* len) {
  if (!wants_incoming(addr, len)) return real().getsockname(fd, addr, len);
  sockaddr_storage got;
  socklen_t got_len = sizeof(got), cap = *len;
  int r = real().getsockname(fd, reinterpret_cast<sockaddr*>(&got), &got_len);
  if (r == 0) incoming(fd, &got, got_len, addr, cap, len);
  return r;
}

CKPT_WRAPPER int getpeername(int fd, sockaddr* addr, socklen_t* len) {
  if (!wants_incoming(addr, len)) return real().getpeername(fd, addr, len);
  sockaddr_storage got;
  socklen_t got_len = sizeof(got), cap = *len;
  int r = real().getpeername(fd, reinterpret_cast<sockaddr*>(&got), &got_len);
  if (r == 0) incoming(fd, &got, got_len, addr, cap, len);
  return r;
}

CKPT_WRAPPER int accept(int fd, sockaddr* addr, socklen_t* len) {
  if (!wants_incoming(addr, len)) return real().accept(fd, addr, len);
  sockaddr_storage got;
  socklen_t got_len = sizeof(got), cap = *len;
  int r = real().accept(fd, reinterpret_cast<sockaddr*>(&got), &got_len);
  if (r >= 0) incoming(fd, &got, got_len, addr, cap, len);
  return r;
}

CKPT_WRAPPER int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  if (!wants_incoming(addr, len)) return real().accept4(fd, addr, len, flags);
  sockaddr_storage got;
  socklen_t got_len = sizeof(got), cap = *len;
  int r = real().accept4(fd, reinterpret_cast<sockaddr*>(&got), &got_len, flags);
  if (r >= 0) incoming(fd, &got, got_len, addr, cap, len);
  return r;
}

CKPT_WRAPPER ssize_t recvfrom(int fd, void* buf, size_t n, int flags, sockaddr* addr,
                              socklen_t* len) {
  if (!wants_incoming(addr, len)) return real().recvfrom(fd, buf, n, flags, addr, len);
  sockaddr_storage got;
  socklen_t got_len = sizeof(got), cap = *len;
  ssize_t r = real().recvfrom(fd, buf, n, flags, reinterpret_cast<sockaddr*>(&got), &got_len);
  if (r >= 0) incoming(fd, &got, got_len, addr, cap, len);
  return r;
}

// _FORTIFY_SOURCE's recvfrom: the size check stays the real one's.
CKPT_WRAPPER ssize_t __recvfrom_chk(int fd, void* buf, size_t n, size_t buflen, int flags,
                                    sockaddr* addr, socklen_t* len) {
  if (n > buflen || address_map().empty())
    return real().recvfrom_chk(fd, buf, n, buflen, flags, addr, len);
  return recvfrom(fd, buf, n, flags, addr, len);
}

// The caller's msghdr points at our storage during the call, then at its
// own buffer again.
CKPT_WRAPPER ssize_t recvmsg(int fd, msghdr* msg, int flags) {
  if (address_map().empty() || !msg || !wants_incoming(msg->msg_name, &msg->msg_namelen))
    return real().recvmsg(fd, msg, flags);
  void* user = msg->msg_name;
  socklen_t cap = msg->msg_namelen;
  sockaddr_storage got;
  msg->msg_name = &got;
  msg->msg_namelen = sizeof(got);
  ssize_t r = real().recvmsg(fd, msg, flags);
  msg->msg_name = user;
  if (r < 0) {
    msg->msg_namelen = cap;
    return r;
  }
  incoming(fd, &got, msg->msg_namelen, user, cap, &msg->msg_namelen);
  return r;
}

// In place: each received name that fits its buffer whole (a truncated one
// is left as the kernel wrote it).
CKPT_WRAPPER int recvmmsg(int fd, mmsghdr* v, unsigned int n, int flags, timespec* timeout) {
  if (address_map().empty() || !v) return real().recvmmsg(fd, v, n, flags, timeout);
  if (n > kMaxVlen) n = kMaxVlen;
  socklen_t caps[kMaxVlen];
  for (unsigned i = 0; i < n; i++) caps[i] = v[i].msg_hdr.msg_name ? v[i].msg_hdr.msg_namelen : 0;
  int r = real().recvmmsg(fd, v, n, flags, timeout);
  int proto = -1;
  for (int i = 0; i < r; i++) {
    msghdr& h = v[i].msg_hdr;
    if (!h.msg_name || h.msg_namelen > caps[i] || !is_inet(h.msg_name, h.msg_namelen)) continue;
    if (proto < 0) proto = socket_proto(fd);
    address_map().to_virtual(proto, static_cast<sockaddr*>(h.msg_name), h.msg_namelen);
  }
  return r;
}
