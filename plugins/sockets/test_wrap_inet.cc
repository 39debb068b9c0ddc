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

}  // namespace
}  // namespace ckpt
