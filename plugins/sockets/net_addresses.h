// The process's virtual network address map (ckpt/address_map.h): empty
// until a restart installs the one ckpt_restart built. A plain object in the
// process's memory, so it is saved in the next image and inherited by fork;
// the next restart replaces it. Written only by the restart, before the
// application's threads exist again; read lock-free by the shim's socket
// wrappers (wrap_inet.cc) and by the socket capture.
#pragma once

#include "ckpt/address_map.h"

namespace ckpt {

const AddressMap& address_map();
// Replaces the map (copies the used moves only).
void set_address_map(const AddressMap& map);

}  // namespace ckpt
