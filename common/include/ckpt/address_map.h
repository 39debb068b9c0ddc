// Virtual network addresses. After a restart on other hosts, or with a
// listener that had to take another port, the application keeps seeing the
// addresses of the run it learned them in ("virtual"): the shim rewrites
// what it passes to the kernel to where things are now ("real") and what
// the kernel returns back to the virtual form. Images store virtual
// addresses only. ckpt_restart builds the map (from its own images and,
// across hosts, the coordinator's rendezvous) and hands it to every
// restored process in RestoreArgs. Malloc-free: the shim uses it.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>

namespace ckpt {

inline constexpr uint32_t kMaxAddressMoves = 1024;

// One move. Addresses are IPv6, IPv4 in mapped form (::ffff:a.b.c.d).
// vport == 0: a host move, every port of vaddr goes to raddr with the same
// port (proto ignored). Otherwise an endpoint move of `proto` (IPPROTO_TCP
// or IPPROTO_UDP): vaddr:vport -> raddr:rport. Endpoint moves win over host
// moves.
//
// Several old addresses on one real address (old hosts packed onto one new
// host, a "shared" real address): the way back is told apart by the port.
// The host moves to a real address R, in map order, are its group V0..Vk-1;
// a port p of R with no endpoint move reads back as V[p % k], and a process
// of the packed restart takes its new ports in the class of the old address
// it speaks for (port_claim.h in plugins/sockets). An entry of proto
// kOwnAddress (vport 0) is no move: it names this process's own old address
// (its old host's) among a shared group, the class of the ports it takes
// when the application does not name an address.
inline constexpr uint8_t kOwnAddress = 0xff;

struct AddressMove {
  in6_addr vaddr, raddr;
  uint16_t vport, rport;  // host order
  uint8_t proto;
  uint8_t reserved[3];
};

struct AddressMap {
  uint32_t n = 0;
  AddressMove moves[kMaxAddressMoves];

  bool empty() const { return n == 0; }
  // False when full. A move already present (same vaddr, vport, proto) is
  // replaced.
  bool add(const AddressMove& m);
  // Rewrite an AF_INET or AF_INET6 address of `len` bytes in place; other
  // families and unknown addresses are left alone. True if it changed.
  bool to_real(int proto, sockaddr* sa, socklen_t len) const;
  bool to_virtual(int proto, sockaddr* sa, socklen_t len) const;
  // The host part alone (port ignored): where the host `v` is now, or `v`.
  in6_addr host_to_real(const in6_addr& v) const;
  // (A shared real address: this process's own old address there, else
  // the group's first.)
  in6_addr host_to_virtual(const in6_addr& r) const;

  // The port class of the old address `v` moved to a shared real address:
  // its index in that address's group and the group's size (>= 2). False
  // when `v` does not move, or its real address is not shared.
  bool port_class(const in6_addr& v, uint32_t* index, uint32_t* count) const;
  // This process's own old address of the family (IPv4 when `v4`), or null.
  const AddressMove* own(bool v4) const;
};

}  // namespace ckpt
