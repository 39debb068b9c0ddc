// Multi-host restart: which new host takes which old host's processes
// (--hosts), and the address moves published through the rendezvous.
#include <arpa/inet.h>

#include <cstring>

#include "gtest/gtest.h"
#include "multi_host.h"
#include "network_plan.h"

namespace ckpt {
namespace {

std::vector<std::string> olds_of(const HostsPlan& plan, const std::string& host) {
  for (const auto& [h, olds] : plan.groups)
    if (h == host) return olds;
  return {};
}

TEST(HostsPlan, PairsPlaceEachOldHost) {
  HostsPlan plan;
  std::string err;
  ASSERT_TRUE(plan_hosts("a=x,b=y,c=x", {"a", "b", "c"}, &plan, &err)) << err;
  ASSERT_EQ(plan.groups.size(), 2u);
  EXPECT_EQ(plan.groups[0].first, "x");
  EXPECT_EQ(olds_of(plan, "x"), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(olds_of(plan, "y"), (std::vector<std::string>{"b"}));
}

TEST(HostsPlan, ListFollowsSortedOldHostsAndTheLastTakesTheRest) {
  HostsPlan plan;
  std::string err;
  ASSERT_TRUE(plan_hosts("n1,n2", {"c", "a", "b"}, &plan, &err)) << err;
  EXPECT_EQ(olds_of(plan, "n1"), (std::vector<std::string>{"a"}));
  EXPECT_EQ(olds_of(plan, "n2"), (std::vector<std::string>{"b", "c"}));
}

TEST(HostsPlan, MistakesAreOneLine) {
  std::string err;
  HostsPlan p1, p2, p3, p4;
  EXPECT_FALSE(plan_hosts("a=x", {"a", "b"}, &p1, &err));
  EXPECT_EQ(err, "--hosts does not say where the processes of host b go");
  EXPECT_FALSE(plan_hosts("z=x,a=y", {"a"}, &p2, &err));
  EXPECT_NE(err.find("z, a host the checkpoint has no process of (it has: a)"), std::string::npos);
  EXPECT_FALSE(plan_hosts("a=x,y", {"a"}, &p3, &err));
  EXPECT_NE(err.find("mixes"), std::string::npos);
  EXPECT_FALSE(plan_hosts("a=x,a=y", {"a"}, &p4, &err));
  EXPECT_NE(err.find("twice"), std::string::npos);
  EXPECT_EQ(err.find('\n'), std::string::npos);
}

AddressMove move_of(const char* v, const char* r, uint16_t vport, uint16_t rport) {
  AddressMove m = {};
  m.vaddr.s6_addr[10] = m.vaddr.s6_addr[11] = 0xff;
  m.raddr = m.vaddr;
  inet_pton(AF_INET, v, &m.vaddr.s6_addr[12]);
  inet_pton(AF_INET, r, &m.raddr.s6_addr[12]);
  m.vport = vport;
  m.rport = rport;
  m.proto = vport ? IPPROTO_TCP : 0;
  return m;
}

TEST(NetworkPlan, PublishedMovesLeaveOutLoopbackAndWildcard) {
  auto mine = std::make_unique<AddressMap>();
  mine->add(move_of("10.0.0.1", "10.0.0.9", 0, 0));
  mine->add(move_of("10.0.0.1", "10.0.0.9", 7000, 7001));
  mine->add(move_of("127.0.0.1", "127.0.0.1", 7000, 7001));
  mine->add(move_of("0.0.0.0", "0.0.0.0", 7000, 7001));
  std::string blob = encode_moves(*mine);
  auto theirs = std::make_unique<AddressMap>();
  std::string err;
  ASSERT_TRUE(add_moves(blob, theirs.get(), &err)) << err;
  ASSERT_EQ(theirs->n, 2u);
  EXPECT_EQ(theirs->moves[1].rport, 7001);
  EXPECT_FALSE(add_moves(blob.substr(0, blob.size() - 1), theirs.get(), &err));
  EXPECT_EQ(err, "a malformed list of address moves from another host");
}

}  // namespace
}  // namespace ckpt
