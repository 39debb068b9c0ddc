// ckpt_info's printer of the HostAddresses section (see host_addresses_describe.h).
#include "host_addresses_describe.h"

#include <arpa/inet.h>

#include <cstdio>

namespace ckpt {

void print_host_addresses(const std::vector<in6_addr>& addrs) {
  if (addrs.empty()) return;
  std::printf("host addresses (when checkpointed, virtual)\n");
  for (const auto& a : addrs) {
    char text[INET6_ADDRSTRLEN] = "?";
    if (IN6_IS_ADDR_V4MAPPED(&a))
      inet_ntop(AF_INET, &a.s6_addr[12], text, sizeof(text));
    else
      inet_ntop(AF_INET6, &a, text, sizeof(text));
    std::printf("  %s\n", text);
  }
}

}  // namespace ckpt
