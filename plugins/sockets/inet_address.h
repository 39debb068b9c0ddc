// IPv4 and IPv6 socket addresses (raw sockaddr bytes as saved in images)
// compared and converted across the two families: a dual-stack IPv6 socket
// names an IPv4 peer by its mapped address (::ffff:a.b.c.d), so the two ends
// of one connection, or a client and its listener, may be of different
// families.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace ckpt {

// An address in one form for both families: IPv4 as a mapped IPv6 address.
struct InetEndpoint {
  in6_addr addr = {};
  uint16_t port = 0;  // host order
  bool any = false;   // the wildcard address
};

// The address family of raw sockaddr bytes (which an image or a message
// holds at any alignment): 0 if there are not even two bytes.
inline sa_family_t address_family(std::string_view raw) {
  sa_family_t family = 0;
  if (raw.size() >= sizeof(family)) std::memcpy(&family, raw.data(), sizeof(family));
  return family;
}

inline bool inet_endpoint(std::string_view raw, InetEndpoint* e) {
  sockaddr_storage sa = {};
  if (raw.size() < sizeof(sockaddr_in) || raw.size() > sizeof(sa)) return false;
  std::memcpy(&sa, raw.data(), raw.size());
  *e = InetEndpoint{};
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

// Whether two saved addresses name the same endpoint (same bytes, or the
// same IPv4 address and port in either family).
inline bool same_endpoint(std::string_view a, std::string_view b) {
  if (a == b) return true;
  InetEndpoint x, y;
  return inet_endpoint(a, &x) && inet_endpoint(b, &y) && x.port == y.port && !x.any && !y.any &&
         std::memcmp(&x.addr, &y.addr, sizeof(in6_addr)) == 0;
}

// `raw` as an address a socket of `family` can connect or bind to: an IPv4
// address becomes its mapped IPv6 form and back. Empty when it cannot be
// (an IPv6 address for an IPv4 socket).
inline std::string inet_in_family(std::string_view raw, int family) {
  InetEndpoint e;
  if (!inet_endpoint(raw, &e)) return std::string(raw);
  if (family == AF_INET6) {
    if (address_family(raw) == AF_INET6) return std::string(raw);
    sockaddr_in6 a = {};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(e.port);
    a.sin6_addr = e.addr;
    return std::string(reinterpret_cast<const char*>(&a), sizeof(a));
  }
  if (!IN6_IS_ADDR_V4MAPPED(&e.addr)) return {};
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_port = htons(e.port);
  std::memcpy(&a.sin_addr, &e.addr.s6_addr[12], 4);
  return std::string(reinterpret_cast<const char*>(&a), sizeof(a));
}

}  // namespace ckpt
