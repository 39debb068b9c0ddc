// Several old addresses on one real address (old hosts packed onto one new
// host, ckpt/address_map.h): ports read back by class, the process's own
// old address (kOwnAddress), and add_own_addresses of the restart
// (network_plan.h).
#include <arpa/inet.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ckpt/address_map.h"
#include "gtest/gtest.h"
#include "network_plan.h"

namespace ckpt {
namespace {

std::unique_ptr<AddressMap> make_map() { return std::make_unique<AddressMap>(); }

in6_addr mapped(const char* v4) {
  in6_addr a = {};
  a.s6_addr[10] = a.s6_addr[11] = 0xff;
  EXPECT_EQ(inet_pton(AF_INET, v4, &a.s6_addr[12]), 1) << v4;
  return a;
}

in6_addr addr6(const char* text) {
  in6_addr a = {};
  EXPECT_EQ(inet_pton(AF_INET6, text, &a), 1) << text;
  return a;
}

AddressMove move(const in6_addr& v, const in6_addr& r, uint16_t vport = 0, uint16_t rport = 0,
                 uint8_t proto = 0) {
  return AddressMove{v, r, vport, rport, proto, {}};
}

sockaddr_in sin4(const char* text, uint16_t port) {
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  EXPECT_EQ(inet_pton(AF_INET, text, &a.sin_addr), 1);
  return a;
}

std::string back(const AddressMap& m, const char* ip, uint16_t port, int proto = IPPROTO_TCP) {
  sockaddr_in a = sin4(ip, port);
  m.to_virtual(proto, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a.sin_addr, buf, sizeof(buf));
  return std::string(buf) + ":" + std::to_string(ntohs(a.sin_port));
}

bool eq(const in6_addr& a, const in6_addr& b) { return std::memcmp(&a, &b, sizeof(a)) == 0; }

// Old hosts .11 and .12 both on .13 now (in that order), and .21 alone on .14.
std::unique_ptr<AddressMap> packed() {
  auto m = make_map();
  EXPECT_TRUE(m->add(move(mapped("10.0.0.11"), mapped("10.0.0.13"))));
  EXPECT_TRUE(m->add(move(mapped("10.0.0.12"), mapped("10.0.0.13"))));
  EXPECT_TRUE(m->add(move(mapped("10.0.0.21"), mapped("10.0.0.14"))));
  return m;
}

TEST(SharedAddress, PortsReadBackByClass) {
  auto m = packed();
  EXPECT_EQ(back(*m, "10.0.0.13", 40000), "10.0.0.11:40000");  // 40000 % 2 == 0
  EXPECT_EQ(back(*m, "10.0.0.13", 40001), "10.0.0.12:40001");
  EXPECT_EQ(back(*m, "10.0.0.13", 40001, IPPROTO_UDP), "10.0.0.12:40001");
  // One old address on a real one: every port is its.
  EXPECT_EQ(back(*m, "10.0.0.14", 40000), "10.0.0.21:40000");
  EXPECT_EQ(back(*m, "10.0.0.14", 40001), "10.0.0.21:40001");
  // The way there is unchanged.
  sockaddr_in a = sin4("10.0.0.12", 40000);
  EXPECT_TRUE(m->to_real(IPPROTO_TCP, reinterpret_cast<sockaddr*>(&a), sizeof(a)));
  EXPECT_EQ(back(*make_map(), "10.0.0.13", 1), "10.0.0.13:1");
}

TEST(SharedAddress, EndpointMovesWinOverTheClass) {
  auto m = packed();
  // A listener of .11 on an odd port (class of .12) keeps reading as .11's.
  ASSERT_TRUE(m->add(move(mapped("10.0.0.11"), mapped("10.0.0.13"), 7001, 7001, IPPROTO_TCP)));
  EXPECT_EQ(back(*m, "10.0.0.13", 7001), "10.0.0.11:7001");
  EXPECT_EQ(back(*m, "10.0.0.13", 7001, IPPROTO_UDP), "10.0.0.12:7001");  // not that protocol's
}

TEST(SharedAddress, PortClassOfEachOldAddress) {
  auto m = packed();
  uint32_t index = 9, count = 9;
  ASSERT_TRUE(m->port_class(mapped("10.0.0.11"), &index, &count));
  EXPECT_EQ(index, 0u);
  EXPECT_EQ(count, 2u);
  ASSERT_TRUE(m->port_class(mapped("10.0.0.12"), &index, &count));
  EXPECT_EQ(index, 1u);
  EXPECT_EQ(count, 2u);
  EXPECT_FALSE(m->port_class(mapped("10.0.0.21"), &index, &count));  // alone on .14
  EXPECT_FALSE(m->port_class(mapped("10.0.0.13"), &index, &count));  // no move
  // Every port of a class reads back as its old address.
  for (uint16_t p = 32768; p < 32800; p++) {
    ASSERT_TRUE(m->port_class(mapped("10.0.0.12"), &index, &count));
    if (p % count == index) EXPECT_EQ(back(*m, "10.0.0.13", p), "10.0.0.12:" + std::to_string(p));
  }
}

TEST(SharedAddress, OwnAddressIsNoMove) {
  auto m = packed();
  uint32_t n = m->n;
  ASSERT_TRUE(m->add(move(mapped("10.0.0.12"), mapped("10.0.0.13"), 0, 0, kOwnAddress)));
  EXPECT_EQ(m->n, n + 1);  // beside the host move of .12, not in its place
  ASSERT_NE(m->own(true), nullptr);
  EXPECT_TRUE(eq(m->own(true)->vaddr, mapped("10.0.0.12")));
  EXPECT_EQ(m->own(false), nullptr);
  // The group and its reading back are as before.
  EXPECT_EQ(back(*m, "10.0.0.13", 40000), "10.0.0.11:40000");
  EXPECT_EQ(back(*m, "10.0.0.13", 40001), "10.0.0.12:40001");
  uint32_t index, count;
  ASSERT_TRUE(m->port_class(mapped("10.0.0.12"), &index, &count));
  EXPECT_EQ(count, 2u);
  EXPECT_TRUE(eq(m->host_to_real(mapped("10.0.0.12")), mapped("10.0.0.13")));
  // The host part of the shared address: the process's own old address
  // (the addresses its next image records).
  EXPECT_TRUE(eq(m->host_to_virtual(mapped("10.0.0.13")), mapped("10.0.0.12")));
  auto without = packed();
  EXPECT_TRUE(eq(without->host_to_virtual(mapped("10.0.0.13")), mapped("10.0.0.11")));
  // Added again: replaced, not doubled.
  ASSERT_TRUE(m->add(move(mapped("10.0.0.12"), mapped("10.0.0.13"), 0, 0, kOwnAddress)));
  EXPECT_EQ(m->n, n + 1);
}

TEST(SharedAddress, AddOwnAddressesOnlyWhereShared) {
  auto m = packed();
  uint32_t n = m->n;
  // .21 is alone on its real address: nothing to tell apart.
  ASSERT_TRUE(add_own_addresses({mapped("10.0.0.21")}, m.get()));
  EXPECT_EQ(m->n, n);
  // One per family, the first shared one.
  ASSERT_TRUE(m->add(move(addr6("fd00::11"), addr6("fd00::13"))));
  ASSERT_TRUE(m->add(move(addr6("fd00::12"), addr6("fd00::13"))));
  n = m->n;
  ASSERT_TRUE(add_own_addresses(
      {mapped("10.0.0.99"), mapped("10.0.0.12"), mapped("10.0.0.11"), addr6("fd00::12")}, m.get()));
  EXPECT_EQ(m->n, n + 2);
  ASSERT_NE(m->own(true), nullptr);
  EXPECT_TRUE(eq(m->own(true)->vaddr, mapped("10.0.0.12")));
  EXPECT_TRUE(eq(m->own(true)->raddr, mapped("10.0.0.13")));
  ASSERT_NE(m->own(false), nullptr);
  EXPECT_TRUE(eq(m->own(false)->vaddr, addr6("fd00::12")));
  // Never sent to the other hosts: they are this process's alone.
  auto other = make_map();
  std::string err;
  ASSERT_TRUE(add_moves(encode_moves(*m), other.get(), &err)) << err;
  EXPECT_EQ(other->n, n);
  EXPECT_EQ(other->own(true), nullptr);
}

TEST(SharedAddress, KeptAddressIsFirstOfItsGroup) {
  // Packed onto a host that was one of the old ones: its address answers
  // for itself (identity move first), the other's follows.
  auto m = make_map();
  ASSERT_TRUE(m->add(move(mapped("10.0.0.11"), mapped("10.0.0.11"))));
  ASSERT_TRUE(m->add(move(mapped("10.0.0.12"), mapped("10.0.0.11"))));
  EXPECT_EQ(back(*m, "10.0.0.11", 50000), "10.0.0.11:50000");
  EXPECT_EQ(back(*m, "10.0.0.11", 50001), "10.0.0.12:50001");
}

}  // namespace
}  // namespace ckpt
