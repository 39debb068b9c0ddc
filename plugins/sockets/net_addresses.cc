// The process's virtual network address map (see net_addresses.h).
#include "net_addresses.h"

namespace ckpt {
namespace {

constinit AddressMap g_addresses{};  // constant-initialized: no constructor runs

}  // namespace

const AddressMap& address_map() { return g_addresses; }

void set_address_map(const AddressMap& map) {
  uint32_t n = map.n < kMaxAddressMoves ? map.n : kMaxAddressMoves;
  for (uint32_t i = 0; i < n; i++) g_addresses.moves[i] = map.moves[i];
  g_addresses.n = n;
}

}  // namespace ckpt
