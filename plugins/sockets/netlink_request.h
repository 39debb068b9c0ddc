// One netlink request to the kernel (a header and a body), sent with a raw
// system call: the one request builder of the sockets family, used on the
// malloc-free checkpoint path (socket_capture.cc: sock_diag of UNIX sockets;
// host_addresses.cc: RTM_GETADDR) and by ckpt_restart (tcp_leftovers.cc).
#pragma once

#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <cstdint>

#include "ckpt/sys.h"

namespace ckpt {

// Sends {nlmsghdr (type, NLM_F_REQUEST | flags), body} to the kernel on the
// netlink socket `fd`; false if it was not sent whole.
template <typename Body>
bool send_netlink_request(int fd, uint16_t type, uint16_t flags, const Body& body) {
  struct {
    nlmsghdr h;
    Body body;
  } req = {};
  req.h.nlmsg_len = sizeof(req);
  req.h.nlmsg_type = type;
  req.h.nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
  req.h.nlmsg_seq = 1;
  req.body = body;
  sockaddr_nl kernel = {};
  kernel.nl_family = AF_NETLINK;
  return sys::call6(SYS_sendto, fd, reinterpret_cast<long>(&req), sizeof(req), 0,
                    reinterpret_cast<long>(&kernel),
                    sizeof(kernel)) == static_cast<long>(sizeof(req));
}

}  // namespace ckpt
