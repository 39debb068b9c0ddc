// Sockets at restart (see socket_restore.h).
#include "socket_restore.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

#include "inet_address.h"
#include "plugins/fd/fd_restore.h"
#include "plugins/fd/fd_restore_ops.h"
#include "tcp_leftovers.h"

namespace ckpt {
namespace {

std::string describe(const SocketState& st) {
  const char* kind = st.family == AF_UNIX ? "UNIX" : st.type == SOCK_STREAM ? "TCP" : "UDP";
  return std::string(kind) + " socket " + std::to_string(st.ino);
}

bool fail(std::string* err, const SocketState& st, const std::string& what) {
  *err = "cannot restore " + describe(st) + ": " + what + ": " + std::strerror(errno);
  return false;
}

const sockaddr* as_addr(std::string_view a) { return reinterpret_cast<const sockaddr*>(a.data()); }

bool is_inet(const SocketState& st) { return st.family == AF_INET || st.family == AF_INET6; }
bool is_tcp(const SocketState& st) { return is_inet(st) && st.type == SOCK_STREAM; }
bool is_stream_like(const SocketState& st) {
  return st.type == SOCK_STREAM || st.type == SOCK_SEQPACKET;
}

uint16_t port_of(std::string_view a) {
  if (a.size() < sizeof(sockaddr_in)) return 0;
  sockaddr_in in;  // the bytes may sit at any alignment in the image
  std::memcpy(&in, a.data(), sizeof(in));
  return ntohs(in.sin_port);  // same place in6
}

// A UNIX address with a path in the file system (not abstract, not unnamed).
bool unix_path(std::string_view a) {
  return a.size() > sizeof(sa_family_t) && address_family(a) == AF_UNIX &&
         a[sizeof(sa_family_t)] != '\0';
}

// Whether a socket bound to `a` is bound to something.
bool named(const SocketState& st, std::string_view a) {
  if (st.family == AF_UNIX) return !a.empty();
  return port_of(a) != 0;
}

// An IP address that names one host (not the wildcard, not loopback).
bool named_host(std::string_view a) {
  InetEndpoint e;
  return inet_endpoint(a, &e) && !e.any && !IN6_IS_ADDR_LOOPBACK(&e.addr) &&
         !(IN6_IS_ADDR_V4MAPPED(&e.addr) && e.addr.s6_addr[12] == 127);
}

bool loopback_addr(std::string_view a) {
  InetEndpoint e;
  return inet_endpoint(a, &e) && !e.any && !named_host(a);
}

// Runs UNIX path operations relative to a process's working directory.
class CwdScope {
 public:
  CwdScope(std::string_view addr, const std::string& cwd) {
    if (!unix_path(addr) || addr[sizeof(sa_family_t)] == '/' || cwd.empty()) return;
    saved_ = open(".", O_PATH | O_CLOEXEC);
    if (saved_ >= 0 && chdir(cwd.c_str()) != 0) {
      close(saved_);
      saved_ = -1;
    }
  }
  ~CwdScope() {
    if (saved_ < 0) return;
    if (fchdir(saved_) != 0) std::perror("ckpt_restart: fchdir");
    close(saved_);
  }
  CwdScope(const CwdScope&) = delete;
  CwdScope& operator=(const CwdScope&) = delete;

 private:
  int saved_ = -1;
};

std::string unix_path_of(std::string_view a) {
  std::string p(a.substr(sizeof(sa_family_t)));
  return p.substr(0, p.find('\0'));
}

int set_int(int fd, int level, int name, int v) {
  return setsockopt(fd, level, name, &v, sizeof(v));
}

// The saved options that differ from a fresh socket's (buffer sizes read
// back doubled: they are set halved, past the sysctl limits as root).
void apply_options(int fd, const SocketState& st) {
  for (uint32_t i = 0; i < st.n_opts; i++) {
    const auto& o = st.opts[i];
    char cur[32];
    socklen_t len = sizeof(cur);
    if (getsockopt(fd, o.level, o.name, cur, &len) == 0 && len == o.value.size() &&
        std::memcmp(cur, o.value.data(), len) == 0)
      continue;
    if (o.level == SOL_SOCKET && (o.name == SO_RCVBUF || o.name == SO_SNDBUF) &&
        o.value.size() == sizeof(int)) {
      int v;
      std::memcpy(&v, o.value.data(), sizeof(v));
      int force = o.name == SO_RCVBUF ? SO_RCVBUFFORCE : SO_SNDBUFFORCE;
      if (set_int(fd, SOL_SOCKET, force, v / 2) != 0) set_int(fd, SOL_SOCKET, o.name, v / 2);
      continue;
    }
    setsockopt(fd, o.level, o.name, o.value.data(), static_cast<socklen_t>(o.value.size()));
  }
}

int saved_int(const SocketState& st, int level, int name, int fallback) {
  for (uint32_t i = 0; i < st.n_opts; i++)
    if (st.opts[i].level == level && st.opts[i].name == name &&
        st.opts[i].value.size() == sizeof(int)) {
      int v;
      std::memcpy(&v, st.opts[i].value.data(), sizeof(v));
      return v;
    }
  return fallback;
}

// Whether a connection to `addr` (either IP family) reaches the TCP
// listener `l`: its own address, or its port on a wildcard address of the
// same family, or of IPv6 without IPV6_V6ONLY for IPv4 and mapped peers.
bool listener_takes(const SocketState& l, std::string_view addr) {
  InetEndpoint want, have;
  if (!inet_endpoint(addr, &want) || !inet_endpoint(l.local, &have) || want.port != have.port)
    return false;
  if (same_endpoint(l.local, addr)) return true;
  if (!have.any) return false;
  bool v4 = IN6_IS_ADDR_V4MAPPED(&want.addr);
  if (l.family == AF_INET) return v4;
  return !v4 || saved_int(l, IPPROTO_IPV6, IPV6_V6ONLY, 0) == 0;
}

// SO_REUSEADDR as the application had it (the restore binds with it on).
void restore_reuse(int fd, const SocketState& st) {
  if (is_inet(st))
    set_int(fd, SOL_SOCKET, SO_REUSEADDR, saved_int(st, SOL_SOCKET, SO_REUSEADDR, 0));
}

int new_socket(const SocketState& st) {
  int fd = socket(st.family, st.type | SOCK_CLOEXEC, static_cast<int>(st.protocol));
  if (fd >= 0) apply_options(fd, st);
  return fd;
}

// Binds `fd` to `addr` (UNIX: a stale socket file is removed first).
// TCP: the killed run's connections may linger in TIME_WAIT on the port,
// and SO_REUSEADDR only gets past them when the old socket had it too, so
// the bind is made in TCP_REPAIR mode, where the kernel forces the reuse
// (needs CAP_NET_ADMIN, else SO_REUSEADDR alone). Leaving repair mode
// clears SO_REUSEADDR; restore_reuse puts the application's back.
bool bind_to(int fd, const SocketState& st, std::string_view addr, const std::string& cwd) {
  CwdScope in_dir(addr, cwd);
  if (unix_path(addr)) {
    std::string path = unix_path_of(addr);
    struct stat sb;
    if (lstat(path.c_str(), &sb) == 0 && S_ISSOCK(sb.st_mode)) unlink(path.c_str());
  }
  if (!is_tcp(st)) return bind(fd, as_addr(addr), static_cast<socklen_t>(addr.size())) == 0;
  set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  if (bind(fd, as_addr(addr), static_cast<socklen_t>(addr.size())) == 0) return true;
  int saved = errno;
  if (saved != EADDRINUSE || set_int(fd, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_ON) != 0) {
    errno = saved;
    return false;
  }
  int r = bind(fd, as_addr(addr), static_cast<socklen_t>(addr.size()));
  saved = errno;
  set_int(fd, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_OFF);
  set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  errno = saved;
  return r == 0;
}

void sleep_ms(int ms) {
  timespec ts = {0, ms * 1000000L};
  nanosleep(&ts, nullptr);
}

// A blocking connect; retried while the old connection's TIME_WAIT holds
// the address pair (loopback reuse waits for tcp_tw_reuse_delay).
bool connect_to(int fd, std::string_view addr, const std::string& cwd) {
  CwdScope in_dir(addr, cwd);
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  int r = -1;
  for (int attempt = 0; attempt < 150; attempt++) {
    r = connect(fd, as_addr(addr), static_cast<socklen_t>(addr.size()));
    if (r == 0 || (errno != EADDRNOTAVAIL && errno != EADDRINUSE && errno != EAGAIN)) break;
    sleep_ms(20);
  }
  int saved = errno;
  fcntl(fd, F_SETFL, flags);
  errno = saved;
  return r == 0;
}

// Writes all of `data` through `fd` (blocking writes would wait for a
// reader that does not run yet: the send buffer grows instead).
bool write_all(int fd, std::string_view data) {
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  size_t done = 0;
  for (int grow = 0; done < data.size() && grow < 8;) {
    ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN) break;
    int sndbuf = 0;
    socklen_t len = sizeof(sndbuf);
    getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len);
    size_t want = static_cast<size_t>(sndbuf) + 2 * (data.size() - done) + 65536;
    set_int(fd, SOL_SOCKET, SO_SNDBUFFORCE, static_cast<int>(want > (1u << 30) ? 1u << 30 : want));
    grow++;
  }
  int saved = errno;
  fcntl(fd, F_SETFL, flags);
  errno = saved;
  return done == data.size();
}

// accept4 on a listener that may be non-blocking (its description is the
// application's), waiting up to 2 s for the connection just made.
int accept_one(int l) {
  pollfd p = {l, POLLIN, 0};
  poll(&p, 1, 2000);
  return accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
}

// The loopback address of a family, port 0.
std::string loopback(int family) {
  if (family == AF_INET6) {
    sockaddr_in6 a = {};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    return std::string(reinterpret_cast<const char*>(&a), sizeof(a));
  }
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return std::string(reinterpret_cast<const char*>(&a), sizeof(a));
}

}  // namespace

SocketTable::~SocketTable() {
  for (auto& [key, s] : socks_) {
    if (s.fd >= 0) close(s.fd);
    if (s.broken_peer >= 0) close(s.broken_peer);
    if (s.temp_listener >= 0) close(s.temp_listener);
  }
}

void SocketTable::note(const image::FdRecord& r, std::string_view cwd, std::string_view host,
                       bool elsewhere) {
  Sock& s = socks_[{std::string(host), r.ino}];
  if (s.known || r.extra.empty()) return;
  s.known = s.st.decode(r.extra);
  s.cwd = std::string(cwd);
  s.host = std::string(host);
  s.elsewhere = elsewhere;
}

SocketTable::Sock* SocketTable::find(const std::string& host, uint64_t ino) {
  auto it = socks_.find({host, ino});
  return it == socks_.end() || !it->second.known ? nullptr : &it->second;
}

// Where a virtual address of `s`'s kind is now.
std::string SocketTable::real(const Sock& s, std::string_view vaddr) const {
  if (!is_inet(s.st) || !net_.map || net_.map->empty() || vaddr.size() > sizeof(sockaddr_storage))
    return std::string(vaddr);
  sockaddr_storage sa = {};
  std::memcpy(&sa, vaddr.data(), vaddr.size());
  net_.map->to_real(is_tcp(s.st) ? IPPROTO_TCP : IPPROTO_UDP, reinterpret_cast<sockaddr*>(&sa),
                    static_cast<socklen_t>(vaddr.size()));
  return std::string(reinterpret_cast<const char*>(&sa), vaddr.size());
}

SocketTable::Sock* SocketTable::partner(const Sock& s) {
  if (s.st.conn != SocketConn::kConnected) return nullptr;
  if (s.st.family == AF_UNIX) {
    Sock* p = s.st.peer_ino ? find(s.host, s.st.peer_ino) : nullptr;
    return p && p->st.type == s.st.type ? p : nullptr;
  }
  for (auto& [key, o] : socks_)
    if (o.known && &o != &s && o.st.conn == SocketConn::kConnected && is_inet(o.st) &&
        is_inet(s.st) && o.st.type == s.st.type && same_endpoint(o.st.local, s.st.peer) &&
        same_endpoint(o.st.peer, s.st.local) && (o.host == s.host || !loopback_addr(s.st.local)))
      return &o;
  return nullptr;
}

// A listener on another host than `s` counts only for its own address (a
// wildcard or loopback one names every host).
SocketTable::Sock* SocketTable::listener_for(const Sock& s, std::string_view addr) {
  for (auto& [key, o] : socks_) {
    if (!o.known || o.st.conn != SocketConn::kListening || o.st.type != s.st.type || addr.empty() ||
        (o.st.family != s.st.family && !(is_inet(o.st) && is_inet(s.st))))
      continue;
    if (o.host != s.host && (o.st.family == AF_UNIX || !named_host(o.st.local))) continue;
    if (o.st.local == addr || (is_inet(s.st) && listener_takes(o.st, addr))) return &o;
  }
  return nullptr;
}

SocketTable::Sock* SocketTable::by_local(const Sock& like, std::string_view addr) {
  if (addr.empty()) return nullptr;
  for (auto& [key, o] : socks_)
    if (o.known && o.st.family == like.st.family && o.st.type == like.st.type &&
        o.st.local == addr && o.fd >= 0)
      return &o;
  return nullptr;
}

// A connection whose far end is in no image: a fresh pair whose far end
// is kept until the saved bytes are in, then closed (TCP: with a reset).
bool SocketTable::build_broken(Sock& s, std::string* err) {
  if (s.st.family == AF_UNIX) {
    int sv[2];
    if (socketpair(AF_UNIX, s.st.type | SOCK_CLOEXEC, 0, sv) != 0)
      return fail(err, s.st, "socketpair");
    s.fd = sv[0];
    s.broken_peer = sv[1];
    apply_options(s.fd, s.st);
    return true;
  }
  if (!is_tcp(s.st)) {  // UDP: connected again, to the same peer
    s.fd = new_socket(s.st);
    if (s.fd < 0) return fail(err, s.st, "socket");
    s.connect_later = true;
    return true;
  }
  int l = socket(s.st.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  std::string any = loopback(s.st.family);
  sockaddr_storage at;
  socklen_t at_len = sizeof(at);
  bool ok = l >= 0 && bind(l, as_addr(any), static_cast<socklen_t>(any.size())) == 0 &&
            listen(l, 1) == 0 && getsockname(l, reinterpret_cast<sockaddr*>(&at), &at_len) == 0;
  s.fd = ok ? new_socket(s.st) : -1;
  ok = s.fd >= 0 &&
       connect_to(s.fd, std::string_view(reinterpret_cast<const char*>(&at), at_len), s.cwd);
  if (ok) s.broken_peer = accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
  if (l >= 0) close(l);
  if (!ok || s.broken_peer < 0) return fail(err, s.st, "a loopback connection to break");
  return true;
}

// Both ends of a named stream connection: the client end connects (from its
// old address) to the listener on the server end's address.
// Which end of a connection listens while the other connects again: the
// one on a listener's address, else the lower port. Both hosts of a
// connection across hosts choose alike (they see the same records).
SocketTable::Sock* SocketTable::server_of(Sock& a, Sock& b) {
  if (listener_for(a, a.st.local)) return &a;
  if (listener_for(b, b.st.local)) return &b;
  if (a.st.family == AF_UNIX) return !a.st.local.empty() && a.st.local == b.st.peer ? &a : &b;
  uint16_t pa = port_of(a.st.local), pb = port_of(b.st.local);
  if (pa != pb) return pa < pb ? &a : &b;
  return a.st.local <= b.st.local ? &a : &b;
}

bool SocketTable::build_pair(Sock& a, Sock& b, std::string* err) {
  Sock* srv = server_of(a, b);
  Sock& cli = srv == &a ? b : a;
  Sock* app_listener = listener_for(*srv, srv->st.local);
  int l = -1;
  bool temporary = !app_listener;
  if (app_listener) {
    if (!build(*app_listener, err)) return false;
    l = app_listener->fd;
  } else {
    l = temporary_listener(*srv, 1, err);
    if (l < 0) return false;
  }
  cli.fd = new_socket(cli.st);
  bool ok = cli.fd >= 0;
  if (ok && named(cli.st, cli.st.local))
    ok = bind_to(cli.fd, cli.st, real(cli, cli.st.local), cli.cwd);
  std::string to = is_inet(cli.st) ? inet_in_family(real(*srv, srv->st.local), cli.st.family) : "";
  if (ok) ok = connect_to(cli.fd, is_inet(cli.st) ? to : srv->st.local, srv->cwd);
  int saved = errno;
  if (ok) srv->fd = accept_one(l);
  if (temporary) {
    close(l);
    CwdScope in_dir(srv->st.local, srv->cwd);
    if (unix_path(srv->st.local)) unlink(unix_path_of(srv->st.local).c_str());
  }
  errno = saved;
  if (!ok || srv->fd < 0) return fail(err, cli.st, "reconnecting it to its peer");
  apply_options(srv->fd, srv->st);
  restore_reuse(cli.fd, cli.st);
  restore_reuse(srv->fd, srv->st);
  return true;
}

// Two unnamed UNIX ends joined to each other.
bool SocketTable::make_socketpair(Sock& a, Sock& b, std::string* err) {
  int sv[2];
  if (socketpair(AF_UNIX, a.st.type | SOCK_CLOEXEC, 0, sv) != 0)
    return fail(err, a.st, "socketpair");
  a.fd = sv[0];
  b.fd = sv[1];
  apply_options(a.fd, a.st);
  apply_options(b.fd, b.st);
  return true;
}

bool SocketTable::build(Sock& s, std::string* err) {
  if (s.fd >= 0) return true;
  const SocketState& st = s.st;
  if (st.conn == SocketConn::kConnected && is_stream_like(st)) {
    Sock* p = partner(s);
    if (p && p->fd < 0) {
      if (st.family == AF_UNIX && st.local.empty() && p->st.local.empty())
        return make_socketpair(s, *p, err);
      return build_pair(s, *p, err);
    }
    if (p) return true;  // built with its partner
    if (listener_for(s, st.peer)) {
      s.fd = new_socket(st);
      if (s.fd < 0) return fail(err, st, "socket");
      if (named(st, st.local) && !bind_to(s.fd, st, real(s, st.local), s.cwd))
        return fail(err, st, "bind");
      s.pending = true;
      return true;
    }
    return build_broken(s, err);
  }
  if (st.conn == SocketConn::kConnected && st.family == AF_UNIX) {  // datagram
    Sock* p = partner(s);
    if (p && p->fd < 0 && p->st.peer_ino == st.ino && st.local.empty() && p->st.local.empty())
      return make_socketpair(s, *p, err);
    if (st.peer.empty()) return build_broken(s, err);
  }
  s.fd = new_socket(st);
  if (s.fd < 0) return fail(err, st, "socket");
  if (!listen_or_move(s, err)) return false;
  if (st.conn == SocketConn::kListening) {
    restore_reuse(s.fd, st);
  } else if (st.conn == SocketConn::kConnected) {
    s.connect_later = true;  // datagrams: once every address is bound
  } else {
    restore_reuse(s.fd, st);
  }
  return true;
}

// Binds (and listens, for a listener) on the saved address, or on another
// port of it when someone else holds that port on this host (a port move).
bool SocketTable::listen_or_move(Sock& s, std::string* err) {
  const SocketState& st = s.st;
  auto bind_listen = [&] {
    if (!bind_to(s.fd, st, real(s, st.local), s.cwd)) return false;
    return st.conn != SocketConn::kListening ||
           listen(s.fd, static_cast<int>(st.backlog ? st.backlog : SOMAXCONN)) == 0;
  };
  if (!named(st, st.local) || bind_listen()) return true;
  if (errno != EADDRINUSE || !is_inet(st) || !net_.map)
    return fail(err, st, st.conn == SocketConn::kListening ? "listen" : "bind");
  close(s.fd);
  s.fd = new_socket(st);
  if (s.fd < 0) return fail(err, st, "socket");
  int backlog = st.conn != SocketConn::kListening ? -1 : st.backlog ? st.backlog : SOMAXCONN;
  return bind_moved(s, s.fd, static_cast<int>(backlog), err);
}

// A listener on the address of `s`, the server end of a connection whose
// real listener is not restored: its peer connects to it again. When the
// port is held here by another socket (two old hosts' processes on one new
// host), it listens on another port and records a port move like a
// listener's, which the peer's connect follows (published to other hosts
// by the exchange); the accepted end keeps that port, seen as the old one.
int SocketTable::temporary_listener(Sock& s, int backlog, std::string* err) {
  int l = socket(s.st.family, s.st.type | SOCK_CLOEXEC, 0);
  if (l >= 0 && bind_to(l, s.st, real(s, s.st.local), s.cwd) && listen(l, backlog) == 0) return l;
  int saved = errno;
  if (l >= 0) close(l);
  errno = saved;
  if (l < 0 || errno != EADDRINUSE || !is_inet(s.st) || !net_.map) {
    fail(err, s.st, "a temporary listener on its address");
    return -1;
  }
  l = socket(s.st.family, s.st.type | SOCK_CLOEXEC, 0);
  if (l < 0) {
    fail(err, s.st, "a temporary listener on another port");
    return -1;
  }
  set_int(l, SOL_SOCKET, SO_REUSEADDR, 1);
  if (!bind_moved(s, l, backlog, err)) {
    close(l);
    return -1;
  }
  return l;
}

// Binds `fd` (for `s`; listening when backlog >= 0) to a port the kernel
// picks on its address and adds the moves that send its old port there:
// for a wildcard address, one per address of its old host and loopback.
bool SocketTable::bind_moved(Sock& s, int fd, int backlog, std::string* err) {
  const SocketState& st = s.st;
  std::string at = real(s, st.local);
  reinterpret_cast<sockaddr_in*>(at.data())->sin_port = 0;  // same place in sockaddr_in6
  if (bind(fd, as_addr(at), static_cast<socklen_t>(at.size())) != 0)
    return fail(err, st, "bind on another port");
  if (backlog >= 0 && listen(fd, backlog) != 0) return fail(err, st, "listen on another port");
  sockaddr_storage now = {};
  socklen_t len = sizeof(now);
  getsockname(fd, reinterpret_cast<sockaddr*>(&now), &len);
  InetEndpoint was, is;
  inet_endpoint(st.local, &was);
  inet_endpoint(std::string_view(reinterpret_cast<const char*>(&now), len), &is);
  AddressMove m = {};
  m.vport = was.port;
  m.rport = is.port;
  m.proto = static_cast<uint8_t>(is_tcp(st) ? IPPROTO_TCP : IPPROTO_UDP);
  std::vector<in6_addr> from = {was.addr};  // a wildcard too: getsockname answers the old port
  if (was.any) {
    auto it = net_.host_ips.find(s.host);
    if (it != net_.host_ips.end()) from.insert(from.end(), it->second.begin(), it->second.end());
    in6_addr lo4 = {};
    lo4.s6_addr[10] = lo4.s6_addr[11] = 0xff;
    lo4.s6_addr[12] = 127;
    lo4.s6_addr[15] = 1;
    from.push_back(lo4);
    from.push_back(in6addr_loopback);
  }
  for (const in6_addr& v : from) {
    m.vaddr = v;
    m.raddr = net_.map->host_to_real(v);
    if (!net_.map->add(m)) {
      errno = ENOSPC;
      return fail(err, st, "recording its new port");
    }
  }
  std::fprintf(stderr, "ckpt_restart: note: %s: port %u is taken here, it uses port %u\n",
               describe(st).c_str(), was.port, is.port);
  return true;
}

// Once, before the first socket is made: the killed run's TCP remnants on
// the addresses about to be bound again.
void SocketTable::clear_leftovers() {
  if (leftovers_cleared_) return;
  leftovers_cleared_ = true;
  std::vector<std::string_view> locals;
  for (auto& [key, s] : socks_)
    if (s.known && !s.elsewhere && is_tcp(s.st) && named(s.st, s.st.local))
      locals.push_back(s.st.local);
  destroy_tcp_leftovers(locals);
}

int SocketTable::open_for(const image::FdRecord& r, std::string_view host, std::string* err) {
  clear_leftovers();
  Sock* s = find(std::string(host), r.ino);
  if (!s) {
    *err = "cannot restore fd " + std::to_string(r.fd) + " (socket " + std::to_string(r.ino) +
           "): no saved state";
    return -1;
  }
  if (!build(*s, err)) return -1;
  int fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    fail(err, s->st, "dup");
    return -1;
  }
  fcntl(fd, F_SETFL, r.open_flags & O_NONBLOCK);
  return fd;
}

// What a stream socket `to` had still to read: its receive queue, then the
// part of its peer `from`'s send queue it had not received. False with err
// when the two images leave a gap in the stream: the sender's send queue
// begins past the receiver's recv_seq (its capture came after the
// receiver's, which the Suspend-phase capture of send queues rules out).
bool SocketTable::stream_bytes_for(const Sock& to, const Sock* from, std::string* bytes,
                                   std::string* err) const {
  const SocketState& st = to.st;
  bytes->clear();
  for_each_message(st.recv_queue, [&](std::string_view data, std::string_view) { *bytes += data; });
  // Sequence numbers are known when both ends were read in repair mode
  // (zero both otherwise); an empty send queue still says where it began.
  auto has_seqs = [](const SocketState& x) { return x.recv_seq != 0 || x.send_seq != 0; };
  if (!from || !is_tcp(st) || !has_seqs(st) || !has_seqs(from->st)) return true;
  // from's send queue is [data_end - size, data_end); `to` has up to
  // recv_end. A FIN takes a sequence number: write_seq counts it once the
  // sender shut down (state FIN_WAIT1 and after, shutdown bit 2), rcv_nxt
  // once it arrived; neither is a byte.
  uint32_t data_end = from->st.send_seq - ((from->st.shutdown & 2) ? 1 : 0);
  uint32_t first = data_end - static_cast<uint32_t>(from->st.send.size());
  uint32_t recv_end = st.recv_seq;
  if ((from->st.shutdown & 2) && static_cast<int32_t>(recv_end - data_end) > 0) recv_end = data_end;
  int32_t skip = static_cast<int32_t>(recv_end - first);
  if (skip < 0) {
    *err = "cannot restore " + describe(st) + ": " + std::to_string(-skip) +
           " bytes of its stream are in neither image (the receiver saved up to sequence " +
           std::to_string(recv_end) + ", the sender's saved send queue starts at " +
           std::to_string(first) + "): the checkpoint is inconsistent";
    return false;
  }
  if (static_cast<size_t>(skip) < from->st.send.size()) *bytes += from->st.send.substr(skip);
  return true;
}

// The bytes in flight towards `s`, written from the other end; for a peer
// restored on another host, the bytes in flight towards that peer (its own
// ckpt_restart puts back those towards `s`).
bool SocketTable::refill(Sock& s, std::string* err) {
  const SocketState& st = s.st;
  Sock* p = st.conn == SocketConn::kConnected ? partner(s) : nullptr;
  if (is_stream_like(st) && st.conn == SocketConn::kConnected) {
    const Sock& to = p && p->elsewhere ? *p : s;
    int from = p ? (p->elsewhere ? s.fd : p->fd) : s.broken_peer;
    if (from < 0) return true;  // pending in a listener: nothing can come back
    if (st.type == SOCK_SEQPACKET) {
      bool ok = true;
      for_each_message(to.st.recv_queue, [&](std::string_view data, std::string_view) {
        if (ok && !write_all(from, data)) ok = fail(err, to.st, "putting back a queued message");
      });
      return ok;
    }
    std::string bytes;
    if (!stream_bytes_for(to, &to == &s ? p : &s, &bytes, err)) return false;
    if (!bytes.empty() && !write_all(from, bytes))
      return fail(err, to.st, "putting back " + std::to_string(bytes.size()) + " bytes in flight");
    return true;
  }
  // Datagrams: from the socket of the computation bound to the source
  // address, else from the peer (socketpairs), else from an unbound socket.
  bool ok = true;
  for_each_message(st.recv_queue, [&](std::string_view data, std::string_view from) {
    if (!ok) return;
    Sock* sender = by_local(s, from);
    int fd = sender ? sender->fd : -1;
    bool connected_to_s = false;
    int temp = -1;
    if (fd < 0 && from.empty() && p && p->st.peer_ino == st.ino) {
      fd = p->fd;
      connected_to_s = true;
    } else if (fd < 0 && from.empty() && s.broken_peer >= 0) {
      fd = s.broken_peer;
      connected_to_s = true;
    } else if (fd < 0) {
      temp = socket(st.family, st.type | SOCK_CLOEXEC, 0);
      if (temp >= 0 && is_inet(st) && !from.empty())
        bind(temp, as_addr(from), static_cast<socklen_t>(from.size()));
      fd = temp;
    }
    ssize_t n = -1;
    if (fd >= 0 && connected_to_s)
      n = send(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    else if (fd >= 0 && !st.local.empty()) {
      CwdScope in_dir(st.local, s.cwd);
      n = sendto(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL, as_addr(st.local),
                 static_cast<socklen_t>(st.local.size()));
    }
    if (temp >= 0) close(temp);
    if (n != static_cast<ssize_t>(data.size())) {
      std::fprintf(stderr, "ckpt_restart: warning: a queued datagram of %s is lost (%s)\n",
                   describe(st).c_str(), n < 0 ? std::strerror(errno) : "short send");
    }
  });
  return ok;
}

bool SocketTable::connect_hosts(std::string* err) {
  clear_leftovers();
  // Listeners and bound datagram sockets first: their port moves are part
  // of what the exchange publishes.
  bool across = false;
  for (auto& [key, s] : socks_) {
    across |= s.known && s.elsewhere;
    if (!s.known || s.elsewhere || !is_inet(s.st) || !named(s.st, s.st.local)) continue;
    bool bound = s.st.conn == SocketConn::kListening ||
                 (s.st.type == SOCK_DGRAM && s.st.conn == SocketConn::kUnconnected);
    if (bound && !build(s, err)) return false;
  }
  if (!across) return true;
  // Connections to a socket restored on another host: the server end waits
  // on its listener (the application's or a temporary one).
  std::vector<Sock*> clients, servers;
  for (auto& [key, s] : socks_) {
    Sock* p = s.known && !s.elsewhere && is_tcp(s.st) ? partner(s) : nullptr;
    if (!p || !p->elsewhere) continue;
    if (server_of(s, *p) != &s) {
      clients.push_back(&s);
      continue;
    }
    servers.push_back(&s);
    if (listener_for(s, s.st.local)) continue;
    s.temp_listener = temporary_listener(s, 16, err);
    if (s.temp_listener < 0) return false;
  }
  if (net_.exchange && !net_.exchange(err)) return false;
  for (Sock* c : clients) {
    Sock* p = partner(*c);
    c->fd = new_socket(c->st);
    if (c->fd < 0 || !bind_to(c->fd, c->st, real(*c, c->st.local), c->cwd))
      return fail(err, c->st, "bind");
    std::string to = inet_in_family(real(*p, p->st.local), c->st.family);
    if (!connect_to(c->fd, to, c->cwd))
      return fail(err, c->st, "reconnecting it to its peer on host " + p->host);
    restore_reuse(c->fd, c->st);
  }
  return accept_from_hosts(servers, err);
}

// The server ends of connections across hosts: accepted from their
// listeners, each told apart by its peer's address now.
bool SocketTable::accept_from_hosts(std::vector<Sock*>& servers, std::string* err) {
  std::map<std::string, int> arrived;  // peer address (normalized) -> accepted fd
  auto key_of = [](std::string_view a) {
    InetEndpoint e;
    if (!inet_endpoint(a, &e)) return std::string(a);
    return std::string(reinterpret_cast<const char*>(&e.addr), sizeof(e.addr)) +
           std::to_string(e.port);
  };
  timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (Sock* s : servers) {
    Sock* p = partner(*s);
    std::string want = key_of(real(*p, p->st.local));
    Sock* app = listener_for(*s, s->st.local);
    int l = app ? app->fd : s->temp_listener;
    while (!arrived.count(want)) {
      timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      if (now.tv_sec - start.tv_sec > 60) {
        errno = ETIMEDOUT;
        return fail(err, s->st, "waiting for its peer on host " + p->host + " to connect again");
      }
      pollfd pf = {l, POLLIN, 0};
      if (poll(&pf, 1, 1000) <= 0) continue;
      sockaddr_storage from = {};
      socklen_t len = sizeof(from);
      int fd = accept4(l, reinterpret_cast<sockaddr*>(&from), &len, SOCK_CLOEXEC);
      if (fd >= 0)
        arrived[key_of(std::string_view(reinterpret_cast<const char*>(&from), len))] = fd;
    }
    s->fd = arrived[want];
    arrived.erase(want);
    apply_options(s->fd, s->st);
    restore_reuse(s->fd, s->st);
    if (s->temp_listener >= 0) close(s->temp_listener);
    s->temp_listener = -1;
  }
  for (auto& [addr, fd] : arrived) close(fd);
  return true;
}

bool SocketTable::finish(std::string* err) {
  // Datagram sockets connect once every address is bound; clients waiting
  // in a listener's queue connect after every accepted pair exists.
  for (auto& [key, s] : socks_) {
    if (s.fd < 0 || !(s.connect_later || s.pending)) continue;
    if (!connect_to(s.fd, real(s, s.st.peer),
                    s.pending ? listener_for(s, s.st.peer)->cwd : s.cwd)) {
      if (s.pending) return fail(err, s.st, "reconnecting it to its listener");
      std::fprintf(stderr, "ckpt_restart: warning: cannot connect %s again: %s\n",
                   describe(s.st).c_str(), std::strerror(errno));
    }
    restore_reuse(s.fd, s.st);
  }
  for (auto& [key, s] : socks_)
    if (s.fd >= 0 && !refill(s, err)) return false;
  for (auto& [key, s] : socks_) {
    if (s.fd < 0) continue;
    if ((s.st.shutdown & 2) && is_stream_like(s.st)) shutdown(s.fd, SHUT_WR);
    if (s.st.peek_off >= 0) set_int(s.fd, SOL_SOCKET, SO_PEEK_OFF, s.st.peek_off);
    if (s.broken_peer >= 0) {
      if (is_tcp(s.st)) {
        linger lg = {1, 0};  // close with a reset
        setsockopt(s.broken_peer, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
      }
      close(s.broken_peer);
      s.broken_peer = -1;
    }
    close(s.fd);
    s.fd = -1;
  }
  return true;
}

// The sockets family's restore table (plugins/fd/fd_restore_ops.h).
namespace {

int create_socket_fd(FdRestoreContext& c, const image::FdRecord& r, std::string* err) {
  return c.tables.sockets.open_for(r, c.img.process.host, err);
}

constexpr image::FdKind kSocketKinds[] = {image::FdKind::kSocket};

}  // namespace

extern const FdRestoreOps kSocketRestoreOps{"sockets", kSocketKinds, create_socket_fd};

}  // namespace ckpt
