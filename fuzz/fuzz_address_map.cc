// libFuzzer target: the virtual address map. Its moves arrive from other
// hosts' ckpt_restart through the coordinator's rendezvous (add_moves), and
// the addresses it rewrites come from the application's calls and from the
// sockets saved in images (SocketState, inet_endpoint). The shim rewrites
// sockaddrs in place: a translation must never write outside the `len`
// bytes it was given.
//
// Input: u32 n, then n moves blob bytes for add_moves, then a list of
// {u8 proto selector, u8 len, len sockaddr bytes}, each translated both
// ways in a buffer of exactly `len` bytes. The same tail is also decoded as
// a saved socket's state.
#include <netinet/in.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "ckpt/address_map.h"
#include "ckpt/byte_codec.h"
#include "plugins/sockets/inet_address.h"
#include "plugins/sockets/network_plan.h"
#include "plugins/sockets/socket_state.h"

namespace {

using namespace ckpt;

void translate_all(const AddressMap& map, ByteReader& r) {
  while (r.remaining() >= 2) {
    const int proto = r.u8() & 1 ? IPPROTO_UDP : IPPROTO_TCP;
    const uint8_t len = r.u8();
    const uint8_t* raw = r.bytes(len);
    if (!raw) return;
    auto sa = std::make_unique<uint8_t[]>(len ? len : 1);
    std::memcpy(sa.get(), raw, len);
    auto* p = reinterpret_cast<sockaddr*>(sa.get());
    map.to_real(proto, p, len);
    map.to_virtual(proto, p, len);
    InetEndpoint e;
    if (inet_endpoint(std::string_view(reinterpret_cast<const char*>(raw), len), &e)) {
      map.host_to_real(e.addr);
      map.host_to_virtual(e.addr);
    }
  }
}

void decode_socket_state(std::string_view extra) {
  SocketState st;
  if (!st.decode(extra)) return;
  InetEndpoint e;
  inet_endpoint(st.local, &e);
  inet_endpoint(st.peer, &e);
  (void)same_endpoint(st.local, st.peer);
  for_each_message(st.recv_queue, [](std::string_view data, std::string_view from) {
    (void)data.size();
    (void)from.size();
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto map = std::make_unique<AddressMap>();
  map->n = 0;
  std::string_view all(reinterpret_cast<const char*>(data), size);
  // The blob is as long as its count says (or all there is).
  ByteReader head(data, size);
  uint32_t n = head.u32();
  size_t blob_size = std::min<uint64_t>(size, 4 + uint64_t{n} * sizeof(AddressMove));
  std::string err;
  add_moves(all.substr(0, blob_size), map.get(), &err);
  ByteReader tail(data + blob_size, size - blob_size);
  translate_all(*map, tail);
  decode_socket_state(all.substr(blob_size));
  (void)encode_moves(*map);
  return 0;
}
