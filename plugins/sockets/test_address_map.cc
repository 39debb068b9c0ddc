// AddressMap (runtime/include/ckpt/address_map.h): host and endpoint moves,
// both families, IPv4-mapped addresses, and the reverse direction.
#include <arpa/inet.h>

#include <cstring>
#include <memory>
#include <string>

#include "ckpt/address_map.h"
#include "gtest/gtest.h"

namespace ckpt {
namespace {

// The map is about 40 KiB: keep it off the test's stack.
std::unique_ptr<AddressMap> make_map() { return std::make_unique<AddressMap>(); }

in6_addr addr6(const char* text) {
  in6_addr a = {};
  EXPECT_EQ(inet_pton(AF_INET6, text, &a), 1) << text;
  return a;
}

// An IPv4 address in mapped form.
in6_addr mapped(const char* v4) {
  in6_addr a = {};
  a.s6_addr[10] = a.s6_addr[11] = 0xff;
  EXPECT_EQ(inet_pton(AF_INET, v4, &a.s6_addr[12]), 1) << v4;
  return a;
}

AddressMove host_move(const in6_addr& v, const in6_addr& r) {
  AddressMove m = {};
  m.vaddr = v;
  m.raddr = r;
  return m;
}

AddressMove endpoint_move(int proto, const in6_addr& v, uint16_t vport, const in6_addr& r,
                          uint16_t rport) {
  AddressMove m = {};
  m.vaddr = v;
  m.raddr = r;
  m.vport = vport;
  m.rport = rport;
  m.proto = static_cast<uint8_t>(proto);
  return m;
}

sockaddr_in sin4(const char* text, uint16_t port) {
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  EXPECT_EQ(inet_pton(AF_INET, text, &a.sin_addr), 1);
  return a;
}

sockaddr_in6 sin6(const char* text, uint16_t port) {
  sockaddr_in6 a = {};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(port);
  a.sin6_flowinfo = htonl(7);
  a.sin6_scope_id = 3;
  a.sin6_addr = addr6(text);
  return a;
}

std::string text(const sockaddr_in& a) {
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a.sin_addr, buf, sizeof(buf));
  return std::string(buf) + ":" + std::to_string(ntohs(a.sin_port));
}

std::string text(const sockaddr_in6& a) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, &a.sin6_addr, buf, sizeof(buf));
  return "[" + std::string(buf) + "]:" + std::to_string(ntohs(a.sin6_port));
}

template <typename Sa>
bool to_real(const AddressMap& m, int proto, Sa* a) {
  return m.to_real(proto, reinterpret_cast<sockaddr*>(a), sizeof(*a));
}

template <typename Sa>
bool to_virtual(const AddressMap& m, int proto, Sa* a) {
  return m.to_virtual(proto, reinterpret_cast<sockaddr*>(a), sizeof(*a));
}

TEST(AddressMap, EmptyChangesNothing) {
  auto m = make_map();
  EXPECT_TRUE(m->empty());
  auto a = sin4("10.0.0.1", 80);
  EXPECT_FALSE(to_real(*m, IPPROTO_TCP, &a));
  EXPECT_EQ(text(a), "10.0.0.1:80");
}

TEST(AddressMap, HostMoveIPv4KeepsPort) {
  auto m = make_map();
  ASSERT_TRUE(m->add(host_move(mapped("10.0.0.1"), mapped("10.0.0.2"))));
  EXPECT_FALSE(m->empty());
  auto a = sin4("10.0.0.1", 5000);
  EXPECT_TRUE(to_real(*m, IPPROTO_TCP, &a));
  EXPECT_EQ(a.sin_family, AF_INET);
  EXPECT_EQ(text(a), "10.0.0.2:5000");
  EXPECT_TRUE(to_virtual(*m, IPPROTO_UDP, &a));
  EXPECT_EQ(text(a), "10.0.0.1:5000");
}

TEST(AddressMap, HostMoveIPv6KeepsFlowinfoAndScope) {
  auto m = make_map();
  ASSERT_TRUE(m->add(host_move(addr6("fd00::1"), addr6("fd00::2"))));
  auto a = sin6("fd00::1", 443);
  EXPECT_TRUE(to_real(*m, IPPROTO_TCP, &a));
  EXPECT_EQ(a.sin6_family, AF_INET6);
  EXPECT_EQ(text(a), "[fd00::2]:443");
  EXPECT_EQ(a.sin6_flowinfo, htonl(7));
  EXPECT_EQ(a.sin6_scope_id, 3u);
}

TEST(AddressMap, MappedAddressInIPv6Socket) {
  auto m = make_map();
  ASSERT_TRUE(m->add(host_move(mapped("10.0.0.1"), mapped("10.0.0.2"))));
  // A dual-stack socket names the IPv4 peer by its mapped address.
  auto a = sin6("::ffff:10.0.0.1", 22);
  EXPECT_TRUE(to_real(*m, IPPROTO_TCP, &a));
  EXPECT_EQ(text(a), "[::ffff:10.0.0.2]:22");
}

TEST(AddressMap, IPv4ToIPv6TargetLeftAlone) {
  auto m = make_map();
  ASSERT_TRUE(m->add(host_move(mapped("10.0.0.1"), addr6("fd00::9"))));
  auto a = sin4("10.0.0.1", 80);
  EXPECT_FALSE(to_real(*m, IPPROTO_TCP, &a));
  EXPECT_EQ(text(a), "10.0.0.1:80");
  // The same address through an IPv6 socket can go there.
  auto b = sin6("::ffff:10.0.0.1", 80);
  EXPECT_TRUE(to_real(*m, IPPROTO_TCP, &b));
  EXPECT_EQ(text(b), "[fd00::9]:80");
}

TEST(AddressMap, EndpointMoveWinsOverHostMove) {
  auto m = make_map();
  ASSERT_TRUE(m->add(host_move(mapped("10.0.0.1"), mapped("10.0.0.2"))));
  ASSERT_TRUE(
      m->add(endpoint_move(IPPROTO_TCP, mapped("10.0.0.1"), 8080, mapped("10.0.0.3"), 9090)));
  auto a = sin4("10.0.0.1", 8080);
  EXPECT_TRUE(to_real(*m, IPPROTO_TCP, &a));
  EXPECT_EQ(text(a), "10.0.0.3:9090");
  // Another protocol or port: the host move.
  auto b = sin4("10.0.0.1", 8080);
  EXPECT_TRUE(to_real(*m, IPPROTO_UDP, &b));
  EXPECT_EQ(text(b), "10.0.0.2:8080");
  auto c = sin4("10.0.0.1", 8081);
  EXPECT_TRUE(to_real(*m, IPPROTO_TCP, &c));
  EXPECT_EQ(text(c), "10.0.0.2:8081");
  // Back: the endpoint by its real address and port.
  EXPECT_TRUE(to_virtual(*m, IPPROTO_TCP, &a));
  EXPECT_EQ(text(a), "10.0.0.1:8080");
  EXPECT_TRUE(to_virtual(*m, IPPROTO_UDP, &b));
  EXPECT_EQ(text(b), "10.0.0.1:8080");
}

TEST(AddressMap, ListenerOnAnotherPortSameHost) {
  auto m = make_map();
  ASSERT_TRUE(
      m->add(endpoint_move(IPPROTO_TCP, mapped("127.0.0.1"), 5000, mapped("127.0.0.1"), 5001)));
  auto a = sin4("127.0.0.1", 5000);
  EXPECT_TRUE(to_real(*m, IPPROTO_TCP, &a));
  EXPECT_EQ(text(a), "127.0.0.1:5001");
  // Other loopback ports are not moved.
  auto b = sin4("127.0.0.1", 5002);
  EXPECT_FALSE(to_real(*m, IPPROTO_TCP, &b));
  EXPECT_FALSE(to_virtual(*m, IPPROTO_TCP, &b));
}

TEST(AddressMap, RoundTrip) {
  auto m = make_map();
  ASSERT_TRUE(m->add(host_move(mapped("192.168.1.10"), mapped("172.16.0.5"))));
  ASSERT_TRUE(m->add(host_move(addr6("2001:db8::1"), addr6("2001:db8::99"))));
  ASSERT_TRUE(
      m->add(endpoint_move(IPPROTO_UDP, addr6("2001:db8::1"), 53, addr6("2001:db8::2"), 5353)));
  for (uint16_t port : {53, 54, 1}) {
    auto a = sin6("2001:db8::1", port);
    const auto before = a;
    EXPECT_TRUE(to_real(*m, IPPROTO_UDP, &a));
    EXPECT_NE(std::memcmp(&a, &before, sizeof(a)), 0);
    EXPECT_TRUE(to_virtual(*m, IPPROTO_UDP, &a));
    EXPECT_EQ(std::memcmp(&a, &before, sizeof(a)), 0) << port;
  }
  auto b = sin4("192.168.1.10", 7);
  EXPECT_TRUE(to_real(*m, IPPROTO_TCP, &b));
  EXPECT_TRUE(to_virtual(*m, IPPROTO_TCP, &b));
  EXPECT_EQ(text(b), "192.168.1.10:7");
  in6_addr real_host = m->host_to_real(mapped("192.168.1.10")), want = mapped("172.16.0.5");
  EXPECT_EQ(std::memcmp(&real_host, &want, sizeof(want)), 0);
}

TEST(AddressMap, HostParts) {
  auto m = make_map();
  ASSERT_TRUE(m->add(host_move(mapped("10.0.0.1"), mapped("10.0.0.2"))));
  ASSERT_TRUE(m->add(endpoint_move(IPPROTO_TCP, mapped("10.0.0.7"), 80, mapped("10.0.0.8"), 80)));
  auto eq = [](const in6_addr& a, const in6_addr& b) { return std::memcmp(&a, &b, 16) == 0; };
  EXPECT_TRUE(eq(m->host_to_real(mapped("10.0.0.1")), mapped("10.0.0.2")));
  EXPECT_TRUE(eq(m->host_to_virtual(mapped("10.0.0.2")), mapped("10.0.0.1")));
  // Endpoint moves do not move the host; unknown hosts stay.
  EXPECT_TRUE(eq(m->host_to_real(mapped("10.0.0.7")), mapped("10.0.0.7")));
  EXPECT_TRUE(eq(m->host_to_virtual(addr6("fd00::5")), addr6("fd00::5")));
}

TEST(AddressMap, UnknownAndOtherFamiliesUnchanged) {
  auto m = make_map();
  ASSERT_TRUE(m->add(host_move(mapped("10.0.0.1"), mapped("10.0.0.2"))));
  auto a = sin4("10.0.0.9", 80);
  EXPECT_FALSE(to_real(*m, IPPROTO_TCP, &a));
  EXPECT_FALSE(to_virtual(*m, IPPROTO_TCP, &a));
  EXPECT_EQ(text(a), "10.0.0.9:80");
  auto any = sin4("0.0.0.0", 80);
  EXPECT_FALSE(to_real(*m, IPPROTO_TCP, &any));
  sockaddr_storage un = {};
  un.ss_family = AF_UNIX;
  EXPECT_FALSE(m->to_real(0, reinterpret_cast<sockaddr*>(&un), sizeof(un)));
  // Too short to be a whole address: left alone.
  auto b = sin4("10.0.0.1", 80);
  EXPECT_FALSE(m->to_real(IPPROTO_TCP, reinterpret_cast<sockaddr*>(&b), sizeof(b) - 1));
  EXPECT_EQ(text(b), "10.0.0.1:80");
  EXPECT_FALSE(m->to_real(IPPROTO_TCP, nullptr, 0));
}

TEST(AddressMap, AddReplacesAndFills) {
  auto m = make_map();
  ASSERT_TRUE(m->add(host_move(mapped("10.0.0.1"), mapped("10.0.0.2"))));
  ASSERT_TRUE(m->add(host_move(mapped("10.0.0.1"), mapped("10.0.0.3"))));
  EXPECT_EQ(m->n, 1u);
  auto a = sin4("10.0.0.1", 1);
  EXPECT_TRUE(to_real(*m, IPPROTO_TCP, &a));
  EXPECT_EQ(text(a), "10.0.0.3:1");
  // Same vaddr and vport, other protocol: a separate move.
  ASSERT_TRUE(m->add(endpoint_move(IPPROTO_TCP, mapped("10.0.0.1"), 80, mapped("10.0.0.4"), 80)));
  ASSERT_TRUE(m->add(endpoint_move(IPPROTO_UDP, mapped("10.0.0.1"), 80, mapped("10.0.0.5"), 80)));
  ASSERT_TRUE(m->add(endpoint_move(IPPROTO_UDP, mapped("10.0.0.1"), 80, mapped("10.0.0.6"), 81)));
  EXPECT_EQ(m->n, 3u);
  auto b = sin4("10.0.0.1", 80);
  EXPECT_TRUE(to_real(*m, IPPROTO_UDP, &b));
  EXPECT_EQ(text(b), "10.0.0.6:81");

  auto full = make_map();
  for (uint32_t i = 0; i < kMaxAddressMoves; i++) {
    in6_addr v = addr6("fd00::");
    v.s6_addr[14] = static_cast<uint8_t>(i >> 8);
    v.s6_addr[15] = static_cast<uint8_t>(i);
    ASSERT_TRUE(full->add(host_move(v, addr6("fd01::1"))));
  }
  EXPECT_EQ(full->n, kMaxAddressMoves);
  EXPECT_FALSE(full->add(host_move(addr6("fd02::1"), addr6("fd01::1"))));
  // Replacing still works when full.
  EXPECT_TRUE(full->add(host_move(addr6("fd00::"), addr6("fd01::2"))));
  EXPECT_EQ(full->n, kMaxAddressMoves);
}

}  // namespace
}  // namespace ckpt
