// The virtual network address map (see ckpt/address_map.h). Malloc-free and
// exception-free: the shim calls it on every translated socket call. Linear
// scans: the map holds at most kMaxAddressMoves moves and is usually empty.
#include "ckpt/address_map.h"

#include <cstring>

namespace ckpt {
namespace {

bool same_addr(const in6_addr& a, const in6_addr& b) {
  return std::memcmp(&a, &b, sizeof(in6_addr)) == 0;
}

bool is_v4_mapped(const in6_addr& a) {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(a.s6_addr, kPrefix, sizeof(kPrefix)) == 0;
}

// An AF_INET or AF_INET6 address in the map's form: IPv6, IPv4 mapped.
struct Endpoint {
  in6_addr addr;
  uint16_t port;  // host order
};

bool read_endpoint(const sockaddr* sa, socklen_t len, Endpoint* e) {
  if (!sa || len < sizeof(sa_family_t)) return false;
  if (sa->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
    sockaddr_in in;
    std::memcpy(&in, sa, sizeof(in));
    std::memset(&e->addr, 0, sizeof(e->addr));
    e->addr.s6_addr[10] = e->addr.s6_addr[11] = 0xff;
    std::memcpy(&e->addr.s6_addr[12], &in.sin_addr, 4);
    e->port = ntohs(in.sin_port);
    return true;
  }
  if (sa->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    sockaddr_in6 in6;
    std::memcpy(&in6, sa, sizeof(in6));
    e->addr = in6.sin6_addr;
    e->port = ntohs(in6.sin6_port);
    return true;
  }
  return false;
}

// Writes `e` back in the family `sa` already has (flowinfo and scope of an
// IPv6 address kept). False when it cannot be (an IPv6 target for an IPv4
// address) or nothing changed.
bool write_endpoint(sockaddr* sa, const Endpoint& e) {
  if (sa->sa_family == AF_INET) {
    if (!is_v4_mapped(e.addr)) return false;
    sockaddr_in in;
    std::memcpy(&in, sa, sizeof(in));
    sockaddr_in out = in;
    std::memcpy(&out.sin_addr, &e.addr.s6_addr[12], 4);
    out.sin_port = htons(e.port);
    if (std::memcmp(&in, &out, sizeof(in)) == 0) return false;
    std::memcpy(sa, &out, sizeof(out));
    return true;
  }
  sockaddr_in6 in6;
  std::memcpy(&in6, sa, sizeof(in6));
  sockaddr_in6 out = in6;
  out.sin6_addr = e.addr;
  out.sin6_port = htons(e.port);
  if (std::memcmp(&in6, &out, sizeof(in6)) == 0) return false;
  std::memcpy(sa, &out, sizeof(out));
  return true;
}

bool is_own(const AddressMove& m) { return m.vport == 0 && m.proto == kOwnAddress; }

bool is_host_move(const AddressMove& m) { return m.vport == 0 && m.proto != kOwnAddress; }

// The host move of a real address `r` a port `port` reads back through: the
// only one, or, when several old addresses share `r`, the one of the port's
// class (address_map.h). Null when `r` is no move's real address.
const AddressMove* host_move_back(const AddressMap& map, const in6_addr& r, uint16_t port) {
  uint32_t k = 0;
  for (uint32_t i = 0; i < map.n; i++)
    k += is_host_move(map.moves[i]) && same_addr(map.moves[i].raddr, r);
  if (k == 0) return nullptr;
  uint32_t want = port % k;
  for (uint32_t i = 0; i < map.n; i++) {
    const AddressMove& m = map.moves[i];
    if (is_host_move(m) && same_addr(m.raddr, r) && want-- == 0) return &m;
  }
  return nullptr;
}

const AddressMove* host_move_to(const AddressMap& map, const in6_addr& v) {
  for (uint32_t i = 0; i < map.n; i++)
    if (is_host_move(map.moves[i]) && same_addr(map.moves[i].vaddr, v)) return &map.moves[i];
  return nullptr;
}

// One direction of the map: `from` (vaddr/vport or raddr/rport) matched,
// `to` written. Endpoint moves first, then host moves.
template <bool kToReal>
bool translate(const AddressMap& map, int proto, sockaddr* sa, socklen_t len) {
  Endpoint e;
  if (map.n == 0 || !read_endpoint(sa, len, &e)) return false;
  for (uint32_t i = 0; i < map.n; i++) {
    const AddressMove& m = map.moves[i];
    if (m.vport == 0 || m.proto != proto) continue;
    if (same_addr(kToReal ? m.vaddr : m.raddr, e.addr) && (kToReal ? m.vport : m.rport) == e.port) {
      Endpoint to = {kToReal ? m.raddr : m.vaddr, kToReal ? m.rport : m.vport};
      return write_endpoint(sa, to);
    }
  }
  const AddressMove* host =
      kToReal ? host_move_to(map, e.addr) : host_move_back(map, e.addr, e.port);
  if (!host) return false;
  return write_endpoint(sa, {kToReal ? host->raddr : host->vaddr, e.port});
}

}  // namespace

bool AddressMap::add(const AddressMove& m) {
  for (uint32_t i = 0; i < n; i++) {
    AddressMove& o = moves[i];
    if (same_addr(o.vaddr, m.vaddr) && o.vport == m.vport && is_own(o) == is_own(m) &&
        (m.vport == 0 || o.proto == m.proto)) {
      o = m;
      return true;
    }
  }
  if (n == kMaxAddressMoves) return false;
  moves[n++] = m;
  return true;
}

bool AddressMap::to_real(int proto, sockaddr* sa, socklen_t len) const {
  return translate<true>(*this, proto, sa, len);
}

bool AddressMap::to_virtual(int proto, sockaddr* sa, socklen_t len) const {
  return translate<false>(*this, proto, sa, len);
}

in6_addr AddressMap::host_to_real(const in6_addr& v) const {
  const AddressMove* m = host_move_to(*this, v);
  return m ? m->raddr : v;
}

in6_addr AddressMap::host_to_virtual(const in6_addr& r) const {
  for (uint32_t i = 0; i < n; i++)
    if (is_own(moves[i]) && same_addr(moves[i].raddr, r)) return moves[i].vaddr;
  const AddressMove* m = host_move_back(*this, r, 0);
  return m ? m->vaddr : r;
}

bool AddressMap::port_class(const in6_addr& v, uint32_t* index, uint32_t* count) const {
  const AddressMove* to = host_move_to(*this, v);
  if (!to) return false;
  uint32_t k = 0, at = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (!is_host_move(moves[i]) || !same_addr(moves[i].raddr, to->raddr)) continue;
    if (&moves[i] == to) at = k;
    k++;
  }
  if (k < 2) return false;
  *index = at;
  *count = k;
  return true;
}

const AddressMove* AddressMap::own(bool v4) const {
  for (uint32_t i = 0; i < n; i++)
    if (is_own(moves[i]) && is_v4_mapped(moves[i].vaddr) == v4) return &moves[i];
  return nullptr;
}

}  // namespace ckpt
