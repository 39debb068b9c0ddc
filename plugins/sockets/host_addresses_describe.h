// ckpt_info's printer of the HostAddresses section: the host's own
// addresses at the checkpoint, in their virtual form.
#pragma once

#include <netinet/in.h>

#include <vector>

#include "ckpt/image_format.h"

namespace ckpt {

// Prints the addresses (nothing when there are none).
void print_host_addresses(const std::vector<in6_addr>& addrs);

}  // namespace ckpt
