// What a killed run leaves of its TCP connections: sockets no process owns
// any more (TIME_WAIT, and orphans in FIN_WAIT/CLOSING/LAST_ACK) keep their
// local ports for up to a minute. A restored listener cannot listen on a port
// such a remnant holds unless the old socket had SO_REUSEADDR, which many
// applications (Open MPI's TCP transport) never set. Before the sockets of a
// computation are made again at restart, the remnants on their local
// addresses are destroyed with sock_diag SOCK_DESTROY (CAP_NET_ADMIN and a
// kernel with CONFIG_INET_DIAG_DESTROY; without them nothing happens and the
// binds fall back to TCP_REPAIR and SO_REUSEADDR).
#pragma once

#include <string_view>
#include <vector>

namespace ckpt {

// Destroys the TCP sockets without an owner (inode 0) whose local address is
// one of `locals` (raw sockaddr_in/sockaddr_in6 bytes; a wildcard address
// matches every address with its port; IPv4-mapped IPv6 addresses match
// their IPv4 form). Returns how many were destroyed.
int destroy_tcp_leftovers(const std::vector<std::string_view>& locals);

}  // namespace ckpt
