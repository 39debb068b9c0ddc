// TCP remnants of a killed run, destroyed at restart (see tcp_leftovers.h).
#include "tcp_leftovers.h"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace ckpt {
namespace {

// A local address in one form for both families: IPv4 as a mapped IPv6
// address, the port in host order.
struct Endpoint {
  in6_addr addr = {};
  uint16_t port = 0;
  bool any = false;
};

bool endpoint_of(std::string_view raw, Endpoint* e) {
  sockaddr_storage sa = {};
  if (raw.size() < sizeof(sockaddr_in) || raw.size() > sizeof(sa)) return false;
  std::memcpy(&sa, raw.data(), raw.size());
  if (sa.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&sa);
    e->addr.s6_addr[10] = e->addr.s6_addr[11] = 0xff;
    std::memcpy(&e->addr.s6_addr[12], &in->sin_addr, 4);
    e->port = ntohs(in->sin_port);
    e->any = in->sin_addr.s_addr == INADDR_ANY;
    return true;
  }
  if (sa.ss_family == AF_INET6 && raw.size() >= sizeof(sockaddr_in6)) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&sa);
    e->addr = in6->sin6_addr;
    e->port = ntohs(in6->sin6_port);
    e->any = IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr);
    return true;
  }
  return false;
}

Endpoint endpoint_of(const inet_diag_msg& m) {
  Endpoint e;
  if (m.idiag_family == AF_INET) {
    e.addr.s6_addr[10] = e.addr.s6_addr[11] = 0xff;
    std::memcpy(&e.addr.s6_addr[12], m.id.idiag_src, 4);
  } else {
    std::memcpy(&e.addr, m.id.idiag_src, sizeof(e.addr));
  }
  e.port = ntohs(m.id.idiag_sport);
  return e;
}

bool matches(const Endpoint& want, const Endpoint& got) {
  return want.port == got.port &&
         (want.any || std::memcmp(&want.addr, &got.addr, sizeof(in6_addr)) == 0);
}

bool send_req(int nl, uint16_t type, uint16_t flags, const inet_diag_req_v2& r) {
  struct {
    nlmsghdr h;
    inet_diag_req_v2 r;
  } req = {};
  req.h.nlmsg_len = sizeof(req);
  req.h.nlmsg_type = type;
  req.h.nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
  req.r = r;
  sockaddr_nl kernel = {};
  kernel.nl_family = AF_NETLINK;
  return sendto(nl, &req, sizeof(req), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) ==
         static_cast<ssize_t>(sizeof(req));
}

// Every ownerless TCP socket of `family` on one of `wanted`'s addresses.
void collect(int family, const std::vector<Endpoint>& wanted, std::vector<inet_diag_msg>* out) {
  int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (nl < 0) return;
  inet_diag_req_v2 r = {};
  r.sdiag_family = static_cast<uint8_t>(family);
  r.sdiag_protocol = IPPROTO_TCP;
  r.idiag_states = ~0u;
  if (!send_req(nl, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, r)) {
    close(nl);
    return;
  }
  alignas(nlmsghdr) static char buf[32768];
  for (bool done = false; !done;) {
    ssize_t n = recv(nl, buf, sizeof(buf), 0);
    if (n <= 0) break;
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, static_cast<uint32_t>(n));
         h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
        done = true;
        break;
      }
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) continue;
      const auto* m = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
      if (m->idiag_inode != 0) continue;  // a process still owns it
      Endpoint got = endpoint_of(*m);
      for (const auto& w : wanted)
        if (matches(w, got)) {
          out->push_back(*m);
          break;
        }
    }
  }
  close(nl);
}

}  // namespace

int destroy_tcp_leftovers(const std::vector<std::string_view>& locals) {
  std::vector<Endpoint> wanted;
  for (auto raw : locals) {
    Endpoint e;
    if (endpoint_of(raw, &e) && e.port != 0) wanted.push_back(e);
  }
  if (wanted.empty()) return 0;
  std::vector<inet_diag_msg> found;
  collect(AF_INET, wanted, &found);
  collect(AF_INET6, wanted, &found);
  if (found.empty()) return 0;
  int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (nl < 0) return 0;
  int destroyed = 0;
  for (const auto& m : found) {
    inet_diag_req_v2 r = {};
    r.sdiag_family = m.idiag_family;
    r.sdiag_protocol = IPPROTO_TCP;
    r.idiag_states = ~0u;
    r.id = m.id;
    if (!send_req(nl, SOCK_DESTROY, NLM_F_ACK, r)) continue;
    alignas(nlmsghdr) char ack[256];
    ssize_t n = recv(nl, ack, sizeof(ack), 0);
    auto* h = reinterpret_cast<nlmsghdr*>(ack);
    if (n >= static_cast<ssize_t>(NLMSG_LENGTH(sizeof(nlmsgerr))) && h->nlmsg_type == NLMSG_ERROR &&
        static_cast<const nlmsgerr*>(NLMSG_DATA(h))->error == 0)
      destroyed++;
  }
  close(nl);
  return destroyed;
}

}  // namespace ckpt
