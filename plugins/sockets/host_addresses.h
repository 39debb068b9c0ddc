// The HostAddresses section: this host's non-loopback IPv4 and IPv6
// addresses at the checkpoint (netlink RTM_GETADDR), in their virtual form
// (net_addresses.h), so that an image taken after a move still names the
// original host. Malloc-free, raw system calls only.
#pragma once

#include "ckpt/address_map.h"
#include "ckpt/byte_codec.h"

namespace ckpt {

// Appends the HostAddresses payload (image_format.h: HostAddressesRecord).
// An address list the kernel does not give makes an empty list.
void capture_host_addresses(const AddressMap& map, ByteWriter& out);

}  // namespace ckpt
