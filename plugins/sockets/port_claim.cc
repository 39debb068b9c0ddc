// Ports that tell packed old hosts apart (see port_claim.h).
#include "port_claim.h"

#include <errno.h>
#include <netinet/in.h>
#include <time.h>

#include <atomic>
#include <cstring>
#include <string_view>

#include "inet_address.h"
#include "runtime/shim/real_functions.h"

namespace ckpt {
namespace {

// Linux's default ip_local_port_range: the ports the kernel itself would
// have picked from.
constexpr uint16_t kLowPort = 32768, kHighPort = 61000;
// Tries of a random port of the class before the kernel picks one (then
// the connection reads back as the old address of whatever class it got).
constexpr uint32_t kTries = 64;

std::atomic<uint64_t> g_calls{0};

uint64_t mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t fresh_seed(int fd) {
  timespec t = {};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return mix(static_cast<uint64_t>(t.tv_nsec) ^ (static_cast<uint64_t>(t.tv_sec) << 30) ^
             (static_cast<uint64_t>(fd) << 48) ^ g_calls.fetch_add(1, std::memory_order_relaxed));
}

void set_port(sockaddr_storage* a, uint16_t port) {
  // sin_port and sin6_port are at the same place.
  reinterpret_cast<sockaddr_in*>(a)->sin_port = htons(port);
}

// Binds `addr` (`len` bytes) on a port of the class, or on the kernel's
// choice when none of kTries is free.
int bind_class_port(int fd, const sockaddr* addr, socklen_t len, uint32_t index, uint32_t count) {
  sockaddr_storage a;
  std::memcpy(&a, addr, len);
  uint64_t seed = fresh_seed(fd);
  for (uint32_t i = 0; i < kTries; i++) {
    uint16_t port = class_port(index, count, seed, i, kLowPort, kHighPort);
    if (port == 0) break;
    set_port(&a, port);
    int r = real().bind(fd, reinterpret_cast<sockaddr*>(&a), len);
    if (r == 0 || errno != EADDRINUSE) return r;
  }
  set_port(&a, 0);
  return real().bind(fd, reinterpret_cast<sockaddr*>(&a), len);
}

// The class of this process's own old address: of IPv4 when `v4`, then of
// the other family when `either`.
bool own_class(const AddressMap& map, bool v4, bool either, uint32_t* index, uint32_t* count) {
  const AddressMove* own = map.own(v4);
  if (!own && either) own = map.own(!v4);
  return own && map.port_class(own->vaddr, index, count);
}

}  // namespace

uint16_t class_port(uint32_t index, uint32_t count, uint64_t seed, uint32_t attempt, uint16_t lo,
                    uint16_t hi) {
  if (count == 0 || index >= count || hi <= lo || static_cast<uint32_t>(hi - lo) < count) return 0;
  uint32_t span = hi - lo;
  uint32_t p = lo + static_cast<uint32_t>(mix(seed + attempt) % span);
  p = p - p % count + index;
  while (p >= hi) p -= count;
  while (p < lo) p += count;
  return p < hi ? static_cast<uint16_t>(p) : 0;
}

bool bind_in_class(const AddressMap& map, int fd, int proto, const sockaddr* virt,
                   const sockaddr* real_addr, socklen_t len, int* rc) {
  if (proto != IPPROTO_TCP && proto != IPPROTO_UDP) return false;
  InetEndpoint v;
  if (!inet_endpoint(std::string_view(reinterpret_cast<const char*>(virt), len), &v) || v.port != 0)
    return false;
  uint32_t index, count;
  bool classed = v.any ? own_class(map, true, virt->sa_family == AF_INET6, &index, &count)
                       : map.port_class(v.addr, &index, &count);
  if (!classed) return false;
  *rc = bind_class_port(fd, real_addr, len, index, count);
  return true;
}

void claim_before_connect(const AddressMap& map, int fd, int proto, const sockaddr* dest,
                          socklen_t len) {
  if (proto != IPPROTO_TCP && proto != IPPROTO_UDP) return;
  InetEndpoint d;
  if (!inet_endpoint(std::string_view(reinterpret_cast<const char*>(dest), len), &d)) return;
  uint32_t index, count;
  if (!own_class(map, IN6_IS_ADDR_V4MAPPED(&d.addr), false, &index, &count)) return;
  int saved = errno;
  sockaddr_storage me = {};
  socklen_t me_len = sizeof(me);
  InetEndpoint now;
  if (real().getsockname(fd, reinterpret_cast<sockaddr*>(&me), &me_len) == 0 &&
      inet_endpoint(std::string_view(reinterpret_cast<const char*>(&me), me_len), &now) &&
      now.port == 0) {
    sockaddr_storage any = {};
    any.ss_family = me.ss_family;
    socklen_t any_len = me.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    bind_class_port(fd, reinterpret_cast<sockaddr*>(&any), any_len, index, count);
  }
  errno = saved;
}

}  // namespace ckpt
