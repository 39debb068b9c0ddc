// Sockets, checkpoint side: UNIX (stream, datagram, seqpacket), TCP and UDP
// over IPv4/IPv6. Runs while every process of the computation is stopped;
// malloc-free, raw system calls only. Appends a SocketState (socket_state.h)
// to FdRecord::extra: addresses, state, options, the UNIX peer's inode (from
// NETLINK_SOCK_DIAG) and the bytes in flight, copied without consuming them
// (MSG_PEEK; datagrams one by one with SO_PEEK_OFF; a TCP send queue in
// TCP_REPAIR mode, which needs CAP_NET_ADMIN).
#pragma once

#include <sys/stat.h>

#include "ckpt/address_map.h"
#include "ckpt/byte_codec.h"
#include "runtime/core/fixed_string.h"

namespace ckpt {

// False with err for sockets ckpt cannot restore (other families, file
// descriptors in flight, a TCP send queue without CAP_NET_ADMIN). IPv4 and
// IPv6 addresses (the socket's own, its peer's, queued datagrams' sources)
// are saved in their virtual form through `addresses` (net_addresses.h),
// when given.
bool capture_socket(int fd, const struct stat& st, ByteWriter& out, MessageString& err,
                    const AddressMap* addresses = nullptr);

}  // namespace ckpt
