// The address of this machine that another host reaches it at: the source
// address the kernel picks for a route to that host. Used to tell processes
// started on other hosts where this host's coordinator and relays listen,
// when the job itself only knows a loopback address.
#pragma once

#include <string>

namespace ckpt {

// This machine's IPv4 address on the route to `host` (a name or an IPv4
// address), or "" with *error saying why (unknown name, no route).
std::string local_address_towards(const std::string& host, std::string* error);

// The IPv4 address `host` (a name or an address) resolves to, or "".
std::string numeric_host(const std::string& host);

// Whether `host` is empty, "localhost" or a loopback address.
bool is_loopback_name(const std::string& host);

}  // namespace ckpt
