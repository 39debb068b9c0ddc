// Ports that tell packed old hosts apart. When a restart puts several old
// hosts on one new host, their old addresses share its one real address;
// the address map reads a port p of it back as the group's old address of
// index p % k (ckpt/address_map.h). So that a connection first made after
// such a restart shows each end the right old address (accept, getpeername,
// getsockname, recvfrom, here and on every other host, which got the same
// groups through the rendezvous), a process of the packed restart takes its
// new ports itself, in the class of the old address it speaks for: the one
// it binds to, or its own old address (kOwnAddress) when it binds the
// wildcard address or connects or sends unbound. Malloc-free: the shim's
// socket wrappers call it.
#pragma once

#include <sys/socket.h>

#include <cstdint>

#include "ckpt/address_map.h"

namespace ckpt {

// A port in [lo, hi) of class `index` of `count` (count >= 1), the
// `attempt`-th try from `seed`; 0 when the range holds none.
uint16_t class_port(uint32_t index, uint32_t count, uint64_t seed, uint32_t attempt, uint16_t lo,
                    uint16_t hi);

// bind(fd, virt) with port 0, `real` its real form (both `len` bytes), for
// a socket of `proto`: when `virt` speaks for an old address of a shared
// real address, binds `real` on a port of that address's class and returns
// true with the result in *rc (the kernel's choice, port 0, if no port of
// the class is free). False: not such a bind, the caller binds as usual.
bool bind_in_class(const AddressMap& map, int fd, int proto, const sockaddr* virt,
                   const sockaddr* real, socklen_t len, int* rc);

// Before connect or a send with an address to `dest` (virtual; `len`
// bytes): a TCP or UDP socket not bound yet, of a process with an own old
// address of the destination's family, is bound to the wildcard address
// on a port of that address's class. Leaves errno alone; a failed bind
// leaves the socket as it was.
void claim_before_connect(const AddressMap& map, int fd, int proto, const sockaddr* dest,
                          socklen_t len);

}  // namespace ckpt
