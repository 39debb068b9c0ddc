// Where the network addresses of a computation go at restart (see
// ckpt/address_map.h). Each old host restored here keeps the addresses
// this host still has; the others move to this host's address: the one
// that reaches the coordinator (or its first non-loopback one). Listeners
// whose port is taken here add port moves later (socket_restore.h). Across
// hosts, every ckpt_restart publishes its moves through the coordinator's
// rendezvous and adds the others'.
#pragma once

#include <netinet/in.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ckpt/address_map.h"
#include "common/image_reader.h"

namespace ckpt {

struct NetworkPlan {
  std::unique_ptr<AddressMap> map = std::make_unique<AddressMap>();
  // Every old host's IP addresses (virtual), from all images.
  std::map<std::string, std::vector<in6_addr>> host_ips;
};

// `here`: the images restored by this ckpt_restart; `elsewhere`: the rest of
// the checkpoint. `coord_host` is the coordinator's numeric address.
bool plan_network(const std::vector<image::LoadedImage>& here,
                  const std::vector<image::LoadedImage>& elsewhere, const std::string& coord_host,
                  uint16_t coord_port, NetworkPlan* plan, std::string* err);

// The old addresses of the host an image's process ran on (virtual): those
// it recorded and its sockets' own.
std::vector<in6_addr> image_host_ips(const image::LoadedImage& img);

// For one restored process whose old host had `old_ips`: the entries that
// name its own old address (one per family, address_map.h: kOwnAddress)
// where several old addresses share a real one. False when the map is full.
bool add_own_addresses(const std::vector<in6_addr>& old_ips, AddressMap* map);

// The moves of `map` other hosts need (all but loopback and wildcard ones), as a blob
// for the rendezvous, and back.
std::string encode_moves(const AddressMap& map);
bool add_moves(std::string_view blob, AddressMap* map, std::string* err);

// "10.0.0.1" / "fe80::1" for messages.
std::string ip_text(const in6_addr& a);

}  // namespace ckpt
