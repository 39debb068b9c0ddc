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

#include "inet_address.h"
#include "netlink_request.h"

namespace ckpt {
namespace {

InetEndpoint endpoint_of(const inet_diag_msg& m) {
  InetEndpoint e;
  if (m.idiag_family == AF_INET) {
    e.addr.s6_addr[10] = e.addr.s6_addr[11] = 0xff;
    std::memcpy(&e.addr.s6_addr[12], m.id.idiag_src, 4);
  } else {
    std::memcpy(&e.addr, m.id.idiag_src, sizeof(e.addr));
  }
  e.port = ntohs(m.id.idiag_sport);
  return e;
}

bool matches(const InetEndpoint& want, const InetEndpoint& got) {
  return want.port == got.port &&
         (want.any || std::memcmp(&want.addr, &got.addr, sizeof(in6_addr)) == 0);
}

// Every ownerless TCP socket of `family` on one of `wanted`'s addresses.
void collect(int family, const std::vector<InetEndpoint>& wanted, std::vector<inet_diag_msg>* out) {
  int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (nl < 0) return;
  inet_diag_req_v2 r = {};
  r.sdiag_family = static_cast<uint8_t>(family);
  r.sdiag_protocol = IPPROTO_TCP;
  r.idiag_states = ~0u;
  if (!send_netlink_request(nl, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, r)) {
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
      InetEndpoint got = endpoint_of(*m);
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
  std::vector<InetEndpoint> wanted;
  for (auto raw : locals) {
    InetEndpoint e;
    if (inet_endpoint(raw, &e) && e.port != 0) wanted.push_back(e);
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
    if (!send_netlink_request(nl, SOCK_DESTROY, NLM_F_ACK, r)) continue;
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
