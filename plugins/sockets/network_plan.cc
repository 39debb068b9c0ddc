// Where the network addresses of a computation go at restart (see
// network_plan.h).
#include "network_plan.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "ckpt/byte_codec.h"
#include "inet_address.h"
#include "socket_state.h"

namespace ckpt {
namespace {

bool v4(const in6_addr& a) { return IN6_IS_ADDR_V4MAPPED(&a); }

bool loopback(const in6_addr& a) {
  return IN6_IS_ADDR_LOOPBACK(&a) || (v4(a) && a.s6_addr[12] == 127);
}

bool unspecified(const in6_addr& a) {
  static const in6_addr v4any = {{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0}}};
  return IN6_IS_ADDR_UNSPECIFIED(&a) || std::memcmp(&a, &v4any, sizeof(a)) == 0;
}

bool same(const in6_addr& a, const in6_addr& b) { return std::memcmp(&a, &b, sizeof(a)) == 0; }

void add_unique(std::vector<in6_addr>* list, const in6_addr& a) {
  if (loopback(a) || unspecified(a) || IN6_IS_ADDR_LINKLOCAL(&a)) return;
  for (const auto& x : *list)
    if (same(x, a)) return;
  list->push_back(a);
}

in6_addr from_sockaddr(const sockaddr* sa) {
  in6_addr a = {};
  if (sa->sa_family == AF_INET) {
    a.s6_addr[10] = a.s6_addr[11] = 0xff;
    std::memcpy(&a.s6_addr[12], &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, 4);
  } else if (sa->sa_family == AF_INET6) {
    a = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
  }
  return a;
}

// The addresses of this host's interfaces (loopback and link-local left out).
std::vector<in6_addr> local_addresses() {
  std::vector<in6_addr> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i; i = i->ifa_next)
    if (i->ifa_addr && (i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6))
      add_unique(&out, from_sockaddr(i->ifa_addr));
  freeifaddrs(list);
  return out;
}

// The address this host reaches the coordinator from, if not loopback.
bool address_towards(const std::string& host, uint16_t port, in6_addr* out) {
  sockaddr_in to = {};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &to.sin_addr) != 1) return false;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in me = {};
  socklen_t len = sizeof(me);
  bool ok = fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) == 0 &&
            getsockname(fd, reinterpret_cast<sockaddr*>(&me), &len) == 0;
  if (fd >= 0) close(fd);
  if (!ok) return false;
  *out = {};
  out->s6_addr[10] = out->s6_addr[11] = 0xff;
  std::memcpy(&out->s6_addr[12], &me.sin_addr, 4);
  return !loopback(*out);
}

// An old host's addresses: those it recorded, and its sockets' own.
void collect_host_ips(const image::LoadedImage& img, std::vector<in6_addr>* ips) {
  for (const auto& a : img.host_addresses) add_unique(ips, a);
  for (const auto& r : img.fds) {
    SocketState st;
    InetEndpoint e;
    if (r.kind != image::FdKind::kSocket || r.extra.empty() || !st.decode(r.extra)) continue;
    if (inet_endpoint(st.local, &e)) add_unique(ips, e.addr);
  }
}

}  // namespace

std::vector<in6_addr> image_host_ips(const image::LoadedImage& img) {
  std::vector<in6_addr> ips;
  collect_host_ips(img, &ips);
  return ips;
}

std::string ip_text(const in6_addr& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (v4(a))
    inet_ntop(AF_INET, &a.s6_addr[12], buf, sizeof(buf));
  else
    inet_ntop(AF_INET6, &a, buf, sizeof(buf));
  return buf;
}

namespace {

// Several old addresses now on one real address (old hosts restarted on one
// host): the way back would be ambiguous. An old address still here answers
// for itself (its identity move comes first), and every socket of an old
// address there gets an endpoint move of its own, so getsockname,
// getpeername and accept tell the old hosts apart again for the sockets the
// checkpoint had; new ones are told apart by their port's class
// (address_map.h).
bool add_moves_back(const std::vector<image::LoadedImage>& here,
                    const std::map<std::string, std::vector<in6_addr>>& host_ips,
                    const std::vector<in6_addr>& kept, const std::vector<AddressMove>& moves,
                    AddressMap* map) {
  auto shared = [&](const in6_addr& r) {
    size_t n =
        std::count_if(kept.begin(), kept.end(), [&](const in6_addr& k) { return same(k, r); });
    for (const auto& m : moves) n += same(m.raddr, r) ? 1 : 0;
    return n >= 2;
  };
  std::vector<AddressMove> to_shared;  // in the map's order: the groups' order (address_map.h)
  for (const auto& k : kept)
    if (shared(k)) to_shared.push_back(AddressMove{k, k, 0, 0, 0, {}});
  for (const auto& m : moves)
    if (shared(m.raddr)) to_shared.push_back(m);
  for (const auto& k : kept)
    if (shared(k) && !map->add(AddressMove{k, k, 0, 0, 0, {}})) return false;
  for (const auto& m : moves)
    if (!map->add(m)) return false;
  for (const auto& img : here) {
    // A wildcard socket speaks for its process's old addresses: those its
    // image recorded (an image taken on a host old hosts were packed onto
    // names its own old host's alone), else its host's.
    const std::vector<in6_addr> own =
        img.host_addresses.empty() ? std::vector<in6_addr>{} : image_host_ips(img);
    const auto& ips = own.empty() ? host_ips.at(std::string(img.process.host)) : own;
    auto of_host = [&](const in6_addr& a) {
      return std::any_of(ips.begin(), ips.end(), [&](const in6_addr& x) { return same(x, a); });
    };
    for (const auto& r : img.fds) {
      SocketState st;
      InetEndpoint e;
      if (r.kind != image::FdKind::kSocket || r.extra.empty() || !st.decode(r.extra) ||
          !inet_endpoint(st.local, &e) || e.port == 0)
        continue;
      for (const auto& m : to_shared) {  // a wildcard address: each of its host's
        if (!(e.any ? of_host(m.vaddr) : same(m.vaddr, e.addr))) continue;
        uint8_t proto = st.type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
        if (!map->add(AddressMove{m.vaddr, m.raddr, e.port, e.port, proto, {}})) return false;
      }
    }
  }
  return true;
}

}  // namespace

bool plan_network(const std::vector<image::LoadedImage>& here,
                  const std::vector<image::LoadedImage>& elsewhere, const std::string& coord_host,
                  uint16_t coord_port, NetworkPlan* plan, std::string* err) {
  for (const auto* set : {&here, &elsewhere})
    for (const auto& img : *set)
      collect_host_ips(img, &plan->host_ips[std::string(img.process.host)]);
  std::vector<in6_addr> mine = local_addresses();
  in6_addr primary4 = {}, primary6 = {};
  bool have4 = false, have6 = false;
  if (address_towards(coord_host, coord_port, &primary4)) have4 = true;
  for (const auto& a : mine) {
    if (!have4 && v4(a)) primary4 = a, have4 = true;
    if (!have6 && !v4(a)) primary6 = a, have6 = true;
  }
  std::vector<in6_addr> kept;      // old addresses still here
  std::vector<AddressMove> moves;  // the others, each to this host's address
  std::vector<std::string> done;
  for (const auto& img : here) {
    std::string host(img.process.host);
    if (std::find(done.begin(), done.end(), host) != done.end()) continue;
    done.push_back(host);
    for (const in6_addr& old : plan->host_ips[host]) {
      if (std::any_of(mine.begin(), mine.end(), [&](const in6_addr& m) { return same(m, old); })) {
        kept.push_back(old);
        continue;
      }
      if (v4(old) ? !have4 : !have6) {  // nowhere to go: connections to it will fail
        std::fprintf(stderr,
                     "ckpt_restart: warning: host %s's address %s is not here, and this host has "
                     "no %s address to move it to\n",
                     host.c_str(), ip_text(old).c_str(), v4(old) ? "IPv4" : "IPv6");
        continue;
      }
      moves.push_back(AddressMove{old, v4(old) ? primary4 : primary6, 0, 0, 0, {}});
    }
  }
  if (!add_moves_back(here, plan->host_ips, kept, moves, plan->map.get())) {
    *err = "too many addresses move (at most " + std::to_string(kMaxAddressMoves) + ")";
    return false;
  }
  return true;
}

bool add_own_addresses(const std::vector<in6_addr>& old_ips, AddressMap* map) {
  for (const auto& v : old_ips) {
    uint32_t index, count;
    if (!map->port_class(v, &index, &count)) continue;
    if (map->own(v4(v))) continue;  // one per family: the first
    if (!map->add(AddressMove{v, map->host_to_real(v), 0, 0, kOwnAddress, {}})) return false;
  }
  return true;
}

std::string encode_moves(const AddressMap& map) {
  ByteWriter w;
  uint32_t n = 0;
  auto shared = [](const AddressMove& m) {
    return !loopback(m.vaddr) && !unspecified(m.vaddr) && !(m.vport == 0 && m.proto == kOwnAddress);
  };
  for (uint32_t i = 0; i < map.n; i++) n += shared(map.moves[i]) ? 1 : 0;
  w.put_u32(n);
  for (uint32_t i = 0; i < map.n; i++)
    if (shared(map.moves[i])) w.put_bytes(&map.moves[i], sizeof(AddressMove));
  return std::string(reinterpret_cast<const char*>(w.data()), w.size());
}

bool add_moves(std::string_view blob, AddressMap* map, std::string* err) {
  ByteReader r(blob.data(), blob.size());
  uint32_t n = r.u32();
  for (uint32_t i = 0; i < n && r.ok(); i++) {
    AddressMove m;
    const uint8_t* at = r.bytes(sizeof(m));
    if (!at) break;
    std::memcpy(&m, at, sizeof(m));
    if (!map->add(m)) {
      *err = "too many addresses move (at most " + std::to_string(kMaxAddressMoves) + ")";
      return false;
    }
  }
  if (!r.ok() || r.remaining() != 0) {
    *err = "a malformed list of address moves from another host";
    return false;
  }
  return true;
}

}  // namespace ckpt
