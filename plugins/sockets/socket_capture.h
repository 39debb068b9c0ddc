// Sockets, checkpoint side: UNIX (stream, datagram, seqpacket), TCP and UDP
// over IPv4/IPv6. Runs while every process of the computation is stopped;
// malloc-free, raw system calls only. Appends a SocketState (socket_state.h)
// to FdRecord::extra: addresses, state, options, the UNIX peer's inode (from
// NETLINK_SOCK_DIAG) and the bytes in flight, copied without consuming them
// (MSG_PEEK; datagrams one by one with SO_PEEK_OFF; a TCP send queue in
// TCP_REPAIR mode, which needs CAP_NET_ADMIN, taken in the Suspend phase:
// see tcp_send_queues.h).
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
// Suspend phase (tcp_send_queues.h): when fd is a connected TCP socket that
// takes TCP_REPAIR mode, appends its u32 send_seq and send queue (a str) to
// `out` and sets *taken. False with err when the queue cannot be copied.
bool take_tcp_send_queue(int fd, ByteWriter& out, bool* taken, MessageString& err);

}  // namespace ckpt
