// The host's own addresses for the HostAddresses section (see host_addresses.h).
#include "host_addresses.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "ckpt/image_format.h"
#include "ckpt/sys.h"
#include "common/scoped_fd.h"
#include "netlink_request.h"

namespace ckpt {
namespace {

bool is_loopback(const in6_addr& a) {
  static const in6_addr kLoopback6 = IN6ADDR_LOOPBACK_INIT;
  if (__builtin_memcmp(&a, &kLoopback6, sizeof(a)) == 0) return true;
  return IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127;
}

// Adds `a` to the list in `list` (16 bytes each) unless it is there.
void add_unique(const in6_addr& a, ByteWriter& list) {
  for (size_t at = 0; at + 16 <= list.size(); at += 16)
    if (__builtin_memcmp(list.data() + at, &a, 16) == 0) return;
  if (list.size() / 16 < image::kMaxHostAddresses) list.put_bytes(&a, 16);
}

// One RTM_NEWADDR message: its address (IFA_LOCAL for IPv4, which is the
// host's own on a point-to-point link; else IFA_ADDRESS), as IPv6.
bool address_of(const nlmsghdr* h, in6_addr* out) {
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifaddrmsg))) return false;
  const auto* ifa = static_cast<const ifaddrmsg*>(NLMSG_DATA(h));
  if (ifa->ifa_scope == RT_SCOPE_HOST) return false;
  if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) return false;
  const size_t want = ifa->ifa_family == AF_INET ? 4 : 16;
  const uint8_t* addr = nullptr;
  int len = static_cast<int>(IFA_PAYLOAD(h));
  for (const rtattr* a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (RTA_PAYLOAD(a) != want) continue;
    if (a->rta_type == IFA_LOCAL || (a->rta_type == IFA_ADDRESS && !addr))
      addr = static_cast<const uint8_t*>(RTA_DATA(a));
  }
  if (!addr) return false;
  *out = in6_addr{};
  if (want == 4) {
    out->s6_addr[10] = out->s6_addr[11] = 0xff;
    __builtin_memcpy(&out->s6_addr[12], addr, 4);
  } else {
    __builtin_memcpy(out, addr, 16);
  }
  return true;
}

// Every address of every interface into `list` (16 bytes each).
void dump_addresses(ByteWriter& list) {
  ScopedFd nl{sys::call3(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)};
  if (!nl) return;
  ifaddrmsg m = {};
  m.ifa_family = AF_UNSPEC;
  if (!send_netlink_request(nl.get(), RTM_GETADDR, NLM_F_DUMP, m)) return;
  // Static: the checkpoint thread's stack is small; one checkpoint at a time.
  alignas(8) static char buf[32768];
  for (;;) {
    long n = sys::call6(SYS_recvfrom, nl.get(), reinterpret_cast<long>(buf), sizeof(buf), 0, 0, 0);
    if (n <= 0) return;
    int left = static_cast<int>(n);
    for (const auto* h = reinterpret_cast<const nlmsghdr*>(buf); NLMSG_OK(h, left);
         h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) return;
      in6_addr a;
      if (h->nlmsg_type == RTM_NEWADDR && address_of(h, &a) && !is_loopback(a)) add_unique(a, list);
    }
  }
}

}  // namespace

void capture_host_addresses(const AddressMap& map, ByteWriter& out) {
  ByteWriter list;  // mmap-backed
  dump_addresses(list);
  ByteWriter virt;
  for (size_t at = 0; at + 16 <= list.size(); at += 16) {
    in6_addr a;
    __builtin_memcpy(&a, list.data() + at, 16);
    add_unique(map.host_to_virtual(a), virt);
  }
  image::HostAddressesRecord r;
  r.count = static_cast<uint32_t>(virt.size() / 16);
  r.addrs = std::string_view(reinterpret_cast<const char*>(virt.data()), virt.size());
  r.encode(out);
}

}  // namespace ckpt
