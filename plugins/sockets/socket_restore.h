// Sockets at restart, across every image. Each socket (by its inode at the
// checkpoint) is created once, in ckpt_restart before it forks the tree, and
// each record's description is a duplicate of it.
//
// - UNIX socketpairs (both ends unnamed) come back with socketpair().
// - Listeners (UNIX path or abstract name, TCP) are bound again on their
//   address (a stale socket file is unlinked first; TCP: what the killed
//   run left on its ports, TIME_WAIT and orphans, is destroyed first, see
//   tcp_leftovers.h, and the bind is forced) and listen with their backlog.
// - Connected stream pairs with a name (an accepted UNIX connection, a TCP
//   connection: ends paired by inode for UNIX, by address tuple for TCP) are
//   made again by connecting the client end, bound to its old address, to
//   the restored listener (or a temporary one on the server end's address)
//   and accepting: both ends keep their addresses and ports.
// - A client still waiting in a restored listener's accept queue connects
//   again once every accepted pair exists (what it had sent is lost).
// - UDP and UNIX datagram sockets are bound again and connected again.
// - The bytes in flight go back in from the other end (TCP: the receiver's
//   queue plus the part of the sender's send queue it had not received yet),
//   datagrams one by one with their boundaries, from the socket that had
//   sent them when it is in the computation.
// - Across hosts (a job restarted by one ckpt_restart per host, each given
//   the other hosts' images as `elsewhere`): listeners are bound first (on
//   another port if theirs is taken: a port move), the moves are exchanged
//   through the coordinator (SocketNetwork::exchange), then the client end
//   of each connection to another host connects to where its peer is now
//   and the server end accepts it; each side puts back the bytes its peer
//   had not read yet. Addresses in images are virtual (address_map.h):
//   every bind and connect goes through SocketNetwork::map.
// - A connected socket whose peer is in no image (outside the computation,
//   or already closed) comes back broken, as after a network fault: its
//   saved bytes can still be read, then a UNIX socket reads end-of-file and
//   a TCP one ECONNRESET; sends fail with EPIPE/ECONNRESET.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ckpt/address_map.h"
#include "ckpt/image_format.h"
#include "socket_state.h"

namespace ckpt {

// Where the computation's addresses are now.
struct SocketNetwork {
  // Virtual -> real; the port moves of listeners bound here are added to it.
  AddressMap* map = nullptr;
  // The old IP addresses of each old host (virtual), for the moves of a
  // wildcard listener.
  std::map<std::string, std::vector<in6_addr>> host_ips;
  // Called once the listeners are bound when some images are restored
  // elsewhere: publishes this restart's moves, adds the other hosts' to *map.
  std::function<bool(std::string*)> exchange;
};

class SocketTable {
 public:
  SocketTable() = default;
  ~SocketTable();
  SocketTable(const SocketTable&) = delete;
  SocketTable& operator=(const SocketTable&) = delete;

  void set_network(SocketNetwork net) { net_ = std::move(net); }
  // First pass: every socket record of every image; `cwd` is its process's
  // working directory (UNIX socket paths may be relative), `host` the host
  // it ran on; `elsewhere`: restored by another ckpt_restart.
  void note(const image::FdRecord& r, std::string_view cwd, std::string_view host, bool elsewhere);
  // Before the first open_for: listeners, then the connections to sockets
  // restored elsewhere (after the exchange).
  bool connect_hosts(std::string* err);
  // A new descriptor (O_CLOEXEC) for the record's socket, or -1 with err.
  int open_for(const image::FdRecord& r, std::string_view host, std::string* err);
  // Once every socket is open: deferred connects, bytes in flight,
  // shutdowns; closes the table's own descriptors.
  bool finish(std::string* err);

 private:
  struct Sock {
    SocketState st;
    bool known = false;  // st was decoded
    bool elsewhere = false;
    std::string cwd, host;
    int fd = -1;           // the table's own descriptor
    int broken_peer = -1;  // the far end of a broken connection, closed in finish
    bool connect_later = false;
    bool pending = false;    // waiting in a restored listener's accept queue
    int temp_listener = -1;  // server end of a connection across hosts
  };
  using Key = std::pair<std::string, uint64_t>;  // host, inode
  bool build(Sock& s, std::string* err);
  bool build_pair(Sock& a, Sock& b, std::string* err);
  bool build_broken(Sock& s, std::string* err);
  bool make_socketpair(Sock& a, Sock& b, std::string* err);
  Sock* find(const std::string& host, uint64_t ino);
  Sock* server_of(Sock& a, Sock& b);
  bool listen_or_move(Sock& s, std::string* err);
  bool bind_moved(Sock& s, int fd, int backlog, std::string* err);
  int temporary_listener(Sock& s, int backlog, std::string* err);
  bool accept_from_hosts(std::vector<Sock*>& servers, std::string* err);
  std::string real(const Sock& s, std::string_view vaddr) const;
  bool stream_bytes_for(const Sock& to, const Sock* from, std::string* bytes,
                        std::string* err) const;
  Sock* partner(const Sock& s);
  Sock* listener_for(const Sock& s, std::string_view addr);
  Sock* by_local(const Sock& like, std::string_view addr);
  bool refill(Sock& s, std::string* err);
  void clear_leftovers();

  std::map<Key, Sock> socks_;
  SocketNetwork net_;
  bool leftovers_cleared_ = false;
};

}  // namespace ckpt
