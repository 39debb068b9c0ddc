// Sockets: capture_socket copies queues without consuming them and pairs
// UNIX ends by inode; SocketTable makes socketpairs, TCP connections (same
// ports, bytes in flight exact) and broken connections to outside peers.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ckpt/address_map.h"
#include "gtest/gtest.h"
#include "socket_capture.h"
#include "socket_restore.h"
#include "socket_state.h"
#include "tcp_send_queues.h"
#include "tests/unit/fd_record_helper.h"

namespace ckpt {
namespace {

using test::LiveRecord;

std::unique_ptr<LiveRecord> capture(int fd) {
  struct stat st;
  fstat(fd, &st);
  ByteWriter w;
  MessageString err;
  EXPECT_TRUE(capture_socket(fd, st, w, err)) << err.c_str();
  return std::make_unique<LiveRecord>(fd, image::FdKind::kSocket, w);
}

SocketState decode(const LiveRecord& r) {
  SocketState st;
  EXPECT_TRUE(st.decode(r.r.extra));
  return st;
}

std::vector<std::string> messages(const SocketState& st) {
  std::vector<std::string> out;
  for_each_message(st.recv_queue,
                   [&](std::string_view data, std::string_view) { out.emplace_back(data); });
  return out;
}

std::string read_some(int fd) {
  char buf[256];
  ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// A TCP listener on 127.0.0.1, a port the kernel picks; its address in *a.
int loopback_listener(sockaddr_in* a) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  *a = {};
  a->sin_family = AF_INET;
  a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(*a);
  EXPECT_EQ(bind(l, reinterpret_cast<sockaddr*>(a), sizeof(*a)), 0);
  EXPECT_EQ(listen(l, 4), 0);
  getsockname(l, reinterpret_cast<sockaddr*>(a), &len);
  return l;
}

// A connected TCP pair over 127.0.0.1 (the listener closed).
void tcp_pair(int* client, int* server) {
  sockaddr_in a;
  int l = loopback_listener(&a);
  *client = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(*client, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  *server = accept(l, nullptr, nullptr);
  close(l);
}

std::string name_of(int fd, bool peer) {
  sockaddr_storage sa;
  socklen_t len = sizeof(sa);
  (peer ? getpeername : getsockname)(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return std::string(reinterpret_cast<char*>(&sa), len);
}

// Every record restored through one SocketTable, as ckpt_restart does.
void restore_all(const std::vector<std::unique_ptr<LiveRecord>>& recs, std::vector<int>* fds) {
  SocketTable table;
  for (auto& r : recs) table.note(r->r, "/", "host", false);
  std::string err;
  for (auto& r : recs) {
    fds->push_back(table.open_for(r->r, "host", &err));
    ASSERT_GE(fds->back(), 0) << err;
  }
  ASSERT_TRUE(table.finish(&err)) << err;
}

TEST(SocketCapture, PeeksQueuesWithoutConsumingThem) {
  int sp[2], dg[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, dg), 0);
  ASSERT_EQ(write(sp[0], "hello ", 6), 6);
  ASSERT_EQ(write(sp[0], "world", 5), 5);
  for (const char* m : {"1", "22", "333"}) ASSERT_GT(send(dg[0], m, strlen(m), 0), 0);
  auto a = capture(sp[0]), b = capture(sp[1]), d = capture(dg[1]);
  SocketState sa = decode(*a), sb = decode(*b), sd = decode(*d);
  EXPECT_EQ(sa.peer_ino, sb.ino);
  EXPECT_EQ(sb.peer_ino, sa.ino);
  EXPECT_EQ(sb.conn, SocketConn::kConnected);
  EXPECT_EQ(messages(sb), std::vector<std::string>{"hello world"});
  EXPECT_TRUE(messages(sa).empty());
  EXPECT_EQ(messages(sd), (std::vector<std::string>{"1", "22", "333"}));
  EXPECT_EQ(read_some(sp[1]), "hello world");  // still there
  EXPECT_EQ(read_some(dg[1]), "1");
  int off = 0;
  socklen_t len = sizeof(off);
  getsockopt(dg[1], SOL_SOCKET, SO_PEEK_OFF, &off, &len);
  EXPECT_EQ(off, -1);
  for (int fd : {sp[0], sp[1], dg[0], dg[1]}) close(fd);
}

// After a move, the image keeps the virtual addresses: the socket's own,
// its peer's and the sources of queued datagrams.
TEST(SocketCapture, SavesVirtualAddresses) {
  auto udp = [](sockaddr_in* a) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    *a = {};
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(*a);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(a), sizeof(*a)), 0);
    getsockname(fd, reinterpret_cast<sockaddr*>(a), &len);
    return fd;
  };
  sockaddr_in ra, rb;
  int a = udp(&ra), b = udp(&rb);
  ASSERT_EQ(connect(a, reinterpret_cast<sockaddr*>(&rb), sizeof(rb)), 0);
  ASSERT_EQ(sendto(b, "x", 1, 0, reinterpret_cast<sockaddr*>(&ra), sizeof(ra)), 1);
  ASSERT_EQ(send(a, "y", 1, 0), 1);
  // Virtual: a was 10.9.9.9:1000 (an endpoint move), b's host 10.8.8.8
  // (a host move of the loopback address, which only a test would make).
  auto map = std::make_unique<AddressMap>();
  AddressMove ma = {}, mb = {};
  auto mapped = [](in6_addr* x, const char* v4) {
    *x = {};
    x->s6_addr[10] = x->s6_addr[11] = 0xff;
    inet_pton(AF_INET, v4, &x->s6_addr[12]);
  };
  mapped(&ma.vaddr, "10.9.9.9");
  mapped(&ma.raddr, "127.0.0.1");
  ma.vport = 1000;
  ma.rport = ntohs(ra.sin_port);
  ma.proto = IPPROTO_UDP;
  mapped(&mb.vaddr, "10.8.8.8");
  mapped(&mb.raddr, "127.0.0.1");
  ASSERT_TRUE(map->add(ma));
  ASSERT_TRUE(map->add(mb));
  auto text = [](std::string_view raw) {
    sockaddr_in s = {};
    if (raw.size() != sizeof(s)) return std::string("?");
    std::memcpy(&s, raw.data(), sizeof(s));
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &s.sin_addr, buf, sizeof(buf));
    return std::string(buf) + ":" + std::to_string(ntohs(s.sin_port));
  };
  auto cap = [&](int fd) {
    struct stat st;
    fstat(fd, &st);
    ByteWriter w;
    MessageString err;
    EXPECT_TRUE(capture_socket(fd, st, w, err, map.get())) << err.c_str();
    return std::make_unique<LiveRecord>(fd, image::FdKind::kSocket, w);
  };
  auto ca = cap(a), cb = cap(b);
  SocketState sa = decode(*ca), sb = decode(*cb);
  const std::string b_virtual = "10.8.8.8:" + std::to_string(ntohs(rb.sin_port));
  EXPECT_EQ(text(sa.local), "10.9.9.9:1000");
  EXPECT_EQ(text(sa.peer), b_virtual);
  EXPECT_EQ(text(sb.local), b_virtual);
  std::vector<std::string> from_a, from_b;
  for_each_message(sa.recv_queue,
                   [&](std::string_view, std::string_view f) { from_a.push_back(text(f)); });
  for_each_message(sb.recv_queue,
                   [&](std::string_view, std::string_view f) { from_b.push_back(text(f)); });
  EXPECT_EQ(from_a, std::vector<std::string>{b_virtual});
  EXPECT_EQ(from_b, std::vector<std::string>{"10.9.9.9:1000"});
  // Without a map: as they are.
  auto plain = capture(a);
  EXPECT_EQ(decode(*plain).local, name_of(a, false));
  close(a);
  close(b);
}

TEST(SocketRestore, SocketpairAndTcpComeBackWithTheirBytes) {
  int sp[2], c, s;
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
  tcp_pair(&c, &s);
  ASSERT_EQ(send(sp[0], "ab", 2, 0), 2);
  ASSERT_EQ(send(sp[0], "cde", 3, 0), 3);
  ASSERT_EQ(write(c, "to server", 9), 9);
  ASSERT_EQ(write(s, "to client", 9), 9);
  std::string c_local = name_of(c, false), c_peer = name_of(c, true);
  std::vector<std::unique_ptr<LiveRecord>> recs;
  for (int fd : {sp[0], sp[1], c, s}) recs.push_back(capture(fd));
  for (int fd : {sp[0], sp[1], c, s}) close(fd);  // unread data: a reset, no TIME_WAIT

  std::vector<int> fds;
  ASSERT_NO_FATAL_FAILURE(restore_all(recs, &fds));
  EXPECT_EQ(read_some(fds[1]), "ab");  // message boundaries kept
  EXPECT_EQ(read_some(fds[1]), "cde");
  EXPECT_EQ(read_some(fds[3]), "to server");
  EXPECT_EQ(read_some(fds[2]), "to client");
  EXPECT_EQ(name_of(fds[2], false), c_local);  // same ports
  EXPECT_EQ(name_of(fds[2], true), c_peer);
  ASSERT_EQ(write(fds[2], "x", 1), 1);
  usleep(10000);
  EXPECT_EQ(read_some(fds[3]), "x");
  for (int fd : fds) close(fd);
}

// The Suspend phase takes the send queue; the snapshot's capture stores
// that one (write_seq as it was then), not the socket's current state.
TEST(SocketCapture, StoresTheSendQueueTakenInTheSuspendPhase) {
  int c, s;
  tcp_pair(&c, &s);
  ASSERT_EQ(write(c, "early", 5), 5);
  MessageString err;
  ASSERT_TRUE(take_tcp_send_queues(nullptr, 0, err)) << err.c_str();
  EXPECT_GE(taken_tcp_send_queue_count(), 2);  // both ends
  SocketState taken = decode(*capture(c));
  ASSERT_EQ(write(c, "late", 4), 4);  // cannot happen in a real checkpoint
  SocketState again = decode(*capture(c));
  drop_tcp_send_queues();
  SocketState now = decode(*capture(c));
  EXPECT_NE(taken.send_seq, 0u);
  EXPECT_EQ(again.send_seq, taken.send_seq);
  EXPECT_EQ(now.send_seq, taken.send_seq + 4);
  close(c);
  close(s);
}

// The race the Suspend-phase capture closes, made by hand: the receiver
// captured, then bytes ACKed, then the sender captured. The restart must
// refuse, naming the gap, rather than lose the bytes silently.
TEST(SocketRestore, AStreamGapBetweenTheImagesIsAnError) {
  int c, s;
  tcp_pair(&c, &s);
  drop_tcp_send_queues();
  std::vector<std::unique_ptr<LiveRecord>> recs;
  recs.push_back(capture(s));
  ASSERT_EQ(write(c, "lost", 4), 4);
  usleep(10000);  // received and ACKed: gone from c's send queue
  recs.push_back(capture(c));
  close(c);
  close(s);
  SocketTable table;
  for (auto& r : recs) table.note(r->r, "/", "host", false);
  std::string err;
  std::vector<int> fds;
  for (auto& r : recs) fds.push_back(table.open_for(r->r, "host", &err));
  EXPECT_FALSE(table.finish(&err));
  EXPECT_NE(err.find("4 bytes of its stream are in neither image"), std::string::npos) << err;
  for (int fd : fds)
    if (fd >= 0) close(fd);
}

// A sender that shut down with bytes still queued: its write_seq counts the
// FIN, which is no byte. The receiver gets every byte back, then EOF.
TEST(SocketRestore, AFinQueuedBehindUnsentBytesIsNoByte) {
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int l = socket(AF_INET, SOCK_STREAM, 0);
  int small = 4096;
  setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));  // a small window
  socklen_t len = sizeof(a);
  ASSERT_EQ(bind(l, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(listen(l, 1), 0);
  getsockname(l, reinterpret_cast<sockaddr*>(&a), &len);
  int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  setsockopt(c, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
  connect(c, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  int s = accept(l, nullptr, nullptr);
  close(l);
  ASSERT_GE(s, 0);
  usleep(10000);
  std::string sent;
  for (char ch = 'a'; sent.size() < (1u << 20); ch = ch == 'z' ? 'a' : ch + 1) {
    std::string chunk(1000, ch);
    ssize_t w = write(c, chunk.data(), chunk.size());
    if (w <= 0) break;
    sent.append(chunk.data(), static_cast<size_t>(w));
  }
  ASSERT_EQ(shutdown(c, SHUT_WR), 0);
  usleep(10000);
  MessageString err;
  ASSERT_TRUE(take_tcp_send_queues(nullptr, 0, err)) << err.c_str();
  std::vector<std::unique_ptr<LiveRecord>> recs;
  recs.push_back(capture(s));
  recs.push_back(capture(c));
  drop_tcp_send_queues();
  SocketState cs = decode(*recs[1]);
  EXPECT_EQ(cs.shutdown & 2, 2);
  EXPECT_FALSE(cs.send.empty());  // the FIN waits behind these
  close(c);
  close(s);
  std::vector<int> fds;
  ASSERT_NO_FATAL_FAILURE(restore_all(recs, &fds));
  std::string got;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(got.size(), sent.size());
  EXPECT_TRUE(got == sent);
  for (int fd : fds) close(fd);
}

TEST(SocketRestore, OutsidePeerComesBackBroken) {
  int c, s;
  tcp_pair(&c, &s);
  ASSERT_EQ(write(s, "last words", 10), 10);
  usleep(10000);
  auto rec = capture(c);  // the server's end is in no image
  close(c);
  close(s);
  SocketTable table;
  table.note(rec->r, "/", "host", false);
  std::string err;
  int fd = table.open_for(rec->r, "host", &err);
  ASSERT_GE(fd, 0) << err;
  ASSERT_TRUE(table.finish(&err)) << err;
  usleep(10000);
  EXPECT_EQ(read_some(fd), "last words");
  char b;
  EXPECT_EQ(recv(fd, &b, 1, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, ECONNRESET);
  EXPECT_LT(send(fd, "y", 1, MSG_NOSIGNAL), 0);
  close(fd);
}

// A dual-stack IPv6 listener without SO_REUSEADDR, an IPv4 client and the
// IPv6 end accepted for it (a mapped address): the ends of different families
// pair up, and the listener listens again on its port although the closed
// connection left a TIME_WAIT there.
TEST(SocketRestore, DualStackListenerOverTimeWait) {
  int l = socket(AF_INET6, SOCK_STREAM, 0);
  int off = 0;
  setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
  sockaddr_in6 any = {};
  any.sin6_family = AF_INET6;
  socklen_t len = sizeof(any);
  ASSERT_EQ(bind(l, reinterpret_cast<sockaddr*>(&any), sizeof(any)), 0);
  ASSERT_EQ(listen(l, 4), 0);
  getsockname(l, reinterpret_cast<sockaddr*>(&any), &len);
  sockaddr_in to = {};
  to.sin_family = AF_INET;
  to.sin_port = any.sin6_port;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(c, reinterpret_cast<sockaddr*>(&to), sizeof(to)), 0);
  int s = accept(l, nullptr, nullptr);
  ASSERT_GE(s, 0);
  ASSERT_EQ(write(c, "ping", 4), 4);
  usleep(10000);
  std::string c_local = name_of(c, false), s_local = name_of(s, false);
  std::vector<std::unique_ptr<LiveRecord>> recs;
  for (int fd : {l, c, s}) recs.push_back(capture(fd));
  EXPECT_EQ(read_some(s), "ping");
  close(s);  // the server end closes first: its TIME_WAIT holds the port
  usleep(10000);
  close(c);
  close(l);
  usleep(10000);

  std::vector<int> fds;
  ASSERT_NO_FATAL_FAILURE(restore_all(recs, &fds));
  usleep(10000);
  EXPECT_EQ(read_some(fds[2]), "ping");
  EXPECT_EQ(name_of(fds[1], false), c_local);
  EXPECT_EQ(name_of(fds[2], false), s_local);
  ASSERT_EQ(write(fds[2], "pong", 4), 4);
  usleep(10000);
  EXPECT_EQ(read_some(fds[1]), "pong");
  int c2 = socket(AF_INET, SOCK_STREAM, 0);  // the listener takes new clients
  EXPECT_EQ(connect(c2, reinterpret_cast<sockaddr*>(&to), sizeof(to)), 0);
  int s2 = accept(fds[0], nullptr, nullptr);
  EXPECT_GE(s2, 0);
  for (int fd : {c2, s2, fds[0], fds[1], fds[2]}) close(fd);
}

// A listener whose port someone else holds at restart takes another port,
// and the map sends its old address there (both directions).
TEST(SocketRestore, ListenerOnATakenPortMoves) {
  sockaddr_in a;
  int l = loopback_listener(&a);
  auto rec = capture(l);
  close(l);
  int squatter = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(bind(squatter, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(listen(squatter, 1), 0);

  auto map = std::make_unique<AddressMap>();
  SocketTable table;
  SocketNetwork net;
  net.map = map.get();
  table.set_network(net);
  table.note(rec->r, "/", "host", false);
  std::string err;
  ASSERT_TRUE(table.connect_hosts(&err)) << err;
  int fd = table.open_for(rec->r, "host", &err);
  ASSERT_GE(fd, 0) << err;
  ASSERT_TRUE(table.finish(&err)) << err;
  sockaddr_in now = {};
  socklen_t len = sizeof(now);
  getsockname(fd, reinterpret_cast<sockaddr*>(&now), &len);
  EXPECT_NE(now.sin_port, a.sin_port);
  ASSERT_GE(map->n, 1u);

  sockaddr_in to = a;  // the old address, as the application knows it
  EXPECT_TRUE(map->to_real(IPPROTO_TCP, reinterpret_cast<sockaddr*>(&to), sizeof(to)));
  EXPECT_EQ(to.sin_port, now.sin_port);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_EQ(connect(c, reinterpret_cast<sockaddr*>(&to), sizeof(to)), 0);
  int s = accept(fd, nullptr, nullptr);
  EXPECT_GE(s, 0);
  sockaddr_in back = now;
  EXPECT_TRUE(map->to_virtual(IPPROTO_TCP, reinterpret_cast<sockaddr*>(&back), sizeof(back)));
  EXPECT_EQ(back.sin_port, a.sin_port);
  for (int x : {c, s, fd, squatter}) close(x);
}

}  // namespace
}  // namespace ckpt
