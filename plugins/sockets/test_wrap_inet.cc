// The shim's IPv4/IPv6 address wrappers (wrap_inet.cc), linked into their
// own test program so that they interpose this process's calls: with an
// empty address map every call is the real one; after a host move the
// application's (virtual) address reaches the real one, the caller's buffer
// is never rewritten, and what the kernel reports comes back virtual.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "gtest/gtest.h"
#include "net_addresses.h"
#include "port_claim.h"
#include "runtime/shim/real_functions.h"

namespace ckpt {
namespace {

sockaddr_in v4(const char* ip, uint16_t port) {
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

in6_addr mapped(const char* ip) {
  in6_addr a = {};
  a.s6_addr[10] = a.s6_addr[11] = 0xff;
  inet_pton(AF_INET, ip, &a.s6_addr[12]);
  return a;
}

std::string ip_of(const sockaddr_in& a) {
  char text[INET_ADDRSTRLEN] = "?";
  inet_ntop(AF_INET, &a.sin_addr, text, sizeof(text));
  return text;
}

// A UDP socket bound to 127.0.0.1 on a free port (receives give up after 2 s).
int udp_server(uint16_t* port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  timeval two_s = {2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &two_s, sizeof(two_s));
  sockaddr_in a = v4("127.0.0.1", 0);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

class WrapInet : public ::testing::Test {
 protected:
  void SetUp() override { resolve_real_functions(); }
  void TearDown() override { set_address_map(AddressMap{}); }

  // 10.99.0.1 (the old host, as the application knows it) is now 127.0.0.1.
  static void move_old_host() {
    static AddressMap map;
    map.n = 0;
    AddressMove m = {};
    m.vaddr = mapped("10.99.0.1");
    m.raddr = mapped("127.0.0.1");
    ASSERT_TRUE(map.add(m));
    set_address_map(map);
  }
};

TEST_F(WrapInet, EmptyMapLeavesAddressesAlone) {
  uint16_t port;
  int server = udp_server(&port);
  int client = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to = v4("127.0.0.1", port);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&to), sizeof(to)), 0);
  sockaddr_in peer = {};
  socklen_t len = sizeof(peer);
  ASSERT_EQ(getpeername(client, reinterpret_cast<sockaddr*>(&peer), &len), 0);
  EXPECT_EQ(ip_of(peer), "127.0.0.1");
  close(client);
  close(server);
}

TEST_F(WrapInet, MovedHostIsReachedByItsOldAddress) {
  uint16_t port;
  int server = udp_server(&port);
  move_old_host();
  int client = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to = v4("10.99.0.1", port);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&to), sizeof(to)), 0);
  EXPECT_EQ(ip_of(to), "10.99.0.1");  // the caller's buffer is left alone
  sockaddr_in peer = {};
  socklen_t len = sizeof(peer);
  ASSERT_EQ(getpeername(client, reinterpret_cast<sockaddr*>(&peer), &len), 0);
  EXPECT_EQ(ip_of(peer), "10.99.0.1");
  EXPECT_EQ(ntohs(peer.sin_port), port);

  ASSERT_EQ(send(client, "hi", 2, 0), 2);
  char buf[8];
  sockaddr_in from = {};
  len = sizeof(from);
  ASSERT_EQ(recvfrom(server, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len), 2);
  EXPECT_EQ(ip_of(from), "10.99.0.1");  // the sender, 127.0.0.1 now, as it was known

  sockaddr_in again = v4("10.99.0.1", port);
  ASSERT_EQ(sendto(server, "ok", 2, 0, reinterpret_cast<sockaddr*>(&from), len), 2);
  ASSERT_EQ(recv(client, buf, sizeof(buf), 0), 2);
  EXPECT_EQ(std::memcmp(buf, "ok", 2), 0);
  EXPECT_EQ(ip_of(again), "10.99.0.1");
  close(client);
  close(server);
}

// Old hosts 10.99.0.1 and 10.99.0.2 both on 127.0.0.1 now (packed), this
// process of the second: ports tell them apart (port_claim.h).
void pack_old_hosts() {
  static AddressMap map;
  map.n = 0;
  ASSERT_TRUE(map.add(AddressMove{mapped("10.99.0.1"), mapped("127.0.0.1"), 0, 0, 0, {}}));
  ASSERT_TRUE(map.add(AddressMove{mapped("10.99.0.2"), mapped("127.0.0.1"), 0, 0, 0, {}}));
  ASSERT_TRUE(
      map.add(AddressMove{mapped("10.99.0.2"), mapped("127.0.0.1"), 0, 0, kOwnAddress, {}}));
  set_address_map(map);
}

sockaddr_in name_of(int fd, bool peer) {
  sockaddr_in a = {};
  socklen_t len = sizeof(a);
  EXPECT_EQ((peer ? getpeername : getsockname)(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  return a;
}

TEST(PortClaim, ClassPortsStayInRangeAndClass) {
  for (uint32_t count = 1; count <= 5; count++)
    for (uint32_t index = 0; index < count; index++)
      for (uint32_t attempt = 0; attempt < 200; attempt++) {
        uint16_t p = class_port(index, count, 12345 + count, attempt, 32768, 61000);
        ASSERT_GE(p, 32768);
        ASSERT_LT(p, 61000);
        ASSERT_EQ(p % count, index);
      }
  EXPECT_EQ(class_port(0, 2, 1, 0, 100, 102), 100);  // the one port of each class
  EXPECT_EQ(class_port(1, 2, 7, 3, 100, 102), 101);
  EXPECT_EQ(class_port(1, 3, 1, 0, 100, 102), 0);  // a range smaller than the classes
  EXPECT_EQ(class_port(2, 2, 1, 0, 100, 200), 0);  // no such class
}

TEST_F(WrapInet, PackedOldHostsToldApartOnBothEnds) {
  pack_old_hosts();
  // A listener of the first old host, bound to its address: a port of its class.
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in at = v4("10.99.0.1", 0);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&at), sizeof(at)), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  sockaddr_in l = name_of(listener, false);
  EXPECT_EQ(ip_of(l), "10.99.0.1");
  EXPECT_EQ(ntohs(l.sin_port) % 2, 0);

  // This process (the second old host's) connects unbound: its own class.
  int client = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&l), sizeof(l)), 0);
  sockaddr_in me = name_of(client, false), there = name_of(client, true);
  EXPECT_EQ(ip_of(me), "10.99.0.2");
  EXPECT_EQ(ntohs(me.sin_port) % 2, 1);
  EXPECT_EQ(ip_of(there), "10.99.0.1");
  EXPECT_EQ(there.sin_port, l.sin_port);

  sockaddr_in from = {};
  socklen_t len = sizeof(from);
  int accepted = accept(listener, reinterpret_cast<sockaddr*>(&from), &len);
  ASSERT_GE(accepted, 0);
  EXPECT_EQ(ip_of(from), "10.99.0.2");
  EXPECT_EQ(from.sin_port, me.sin_port);
  EXPECT_EQ(ip_of(name_of(accepted, true)), "10.99.0.2");
  EXPECT_EQ(ip_of(name_of(accepted, false)), "10.99.0.1");
  close(accepted);
  close(client);
  close(listener);
}

TEST_F(WrapInet, PackedWildcardBindAndUnboundDatagrams) {
  pack_old_hosts();
  // The wildcard address: the process's own old address's class.
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in any = v4("0.0.0.0", 0);
  ASSERT_EQ(bind(s, reinterpret_cast<sockaddr*>(&any), sizeof(any)), 0);
  EXPECT_EQ(ntohs(name_of(s, false).sin_port) % 2, 1);
  close(s);

  // A UDP server of the first old host; a datagram from an unbound socket.
  int server = socket(AF_INET, SOCK_DGRAM, 0);
  timeval two_s = {2, 0};
  setsockopt(server, SOL_SOCKET, SO_RCVTIMEO, &two_s, sizeof(two_s));
  sockaddr_in at = v4("10.99.0.1", 0);
  ASSERT_EQ(bind(server, reinterpret_cast<sockaddr*>(&at), sizeof(at)), 0);
  sockaddr_in srv = name_of(server, false);
  int client = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_EQ(sendto(client, "hi", 2, 0, reinterpret_cast<sockaddr*>(&srv), sizeof(srv)), 2);
  char buf[8];
  sockaddr_in from = {};
  socklen_t len = sizeof(from);
  ASSERT_EQ(recvfrom(server, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len), 2);
  EXPECT_EQ(ip_of(from), "10.99.0.2");
  EXPECT_EQ(ntohs(from.sin_port) % 2, 1);
  close(client);
  close(server);
}

// A port the application names is left as it is, whatever its class.
TEST_F(WrapInet, PackedExplicitPortUntouched) {
  pack_old_hosts();
  bool bound = false;
  for (uint16_t port = 45000; port < 45200 && !bound; port += 2) {  // class 0, not 10.99.0.2's
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in at = v4("10.99.0.2", port);
    if (bind(s, reinterpret_cast<sockaddr*>(&at), sizeof(at)) == 0) {
      bound = true;
      EXPECT_EQ(ntohs(name_of(s, false).sin_port), port);
    }
    close(s);
  }
  EXPECT_TRUE(bound) << "no free port in 45000..45199";
}

}  // namespace
}  // namespace ckpt
