// The multi-host restart rendezvous: the coordinator's round bookkeeping
// (Rendezvous, on its own), then rendezvous() against the real coordinator
// binary (coordinator_fixture.h) from concurrent threads.
#include <gtest/gtest.h>

#include <future>
#include <map>

#include "coordinator/rendezvous.h"
#include "coordinator_fixture.h"
#include "launcher/common/rendezvous_client.h"

namespace ckpt::test {
namespace {

// What one requester was told.
struct Told {
  int calls = 0;
  bool ok = false;
  std::string text;
  std::vector<std::string> blobs;  // text decoded, if ok
};

class RendezvousRounds : public ::testing::Test {
 protected:
  // join() with a Done that records into told_[waiter].
  void join(Rendezvous::WaiterId waiter, std::string_view round, uint32_t expected,
            std::string_view members, std::string_view blob) {
    rv_.join(waiter, round, expected, members, blob, [this, waiter](bool ok, const std::string& t) {
      Told& told = told_[waiter];
      told.calls++;
      told.ok = ok;
      told.text = t;
      told.blobs.clear();
      if (ok) {
        EXPECT_TRUE(
            proto::decode_blob_list(t, [&](std::string_view b) { told.blobs.emplace_back(b); }));
      }
    });
  }
  bool told(Rendezvous::WaiterId waiter) { return told_.count(waiter) != 0; }

  Rendezvous rv_;
  std::map<Rendezvous::WaiterId, Told> told_;
};

using Blobs = std::vector<std::string>;

TEST_F(RendezvousRounds, EveryoneGetsEveryBlobOnceComplete) {
  join(1, "gen5-a", 3, "hostA", "blobA");
  join(2, "gen5-a", 3, "hostB", "blobB");
  EXPECT_FALSE(told(1) || told(2));
  EXPECT_EQ(rv_.waiting("gen5-a"), 2u);
  join(3, "gen5-a", 3, "hostC", "blobC");
  for (auto id : {1, 2, 3}) {
    EXPECT_EQ(told_[id].calls, 1) << id;
    EXPECT_TRUE(told_[id].ok) << told_[id].text;
    EXPECT_EQ(told_[id].blobs, (Blobs{"blobA", "blobB", "blobC"})) << id;
  }
  EXPECT_EQ(rv_.waiting("gen5-a"), 0u);
}

TEST_F(RendezvousRounds, OneRequestMayCoverSeveralHosts) {
  join(1, "r", 3, "hostA\nhostB", "AB");
  EXPECT_FALSE(told(1));
  join(2, "r", 3, "hostC\n", "C");  // a trailing separator is no name
  EXPECT_EQ(told_[1].blobs, (Blobs{"AB", "C"}));
  EXPECT_EQ(told_[2].blobs, (Blobs{"AB", "C"}));
}

TEST_F(RendezvousRounds, LateRequesterIsAnsweredAtOnce) {
  join(1, "r", 1, "hostA", "A");
  EXPECT_EQ(told_[1].blobs, (Blobs{"A"}));
  // A new host name would make 2 of 1: refused, nothing changes.
  join(2, "r", 1, "hostB", "B");
  EXPECT_FALSE(told_[2].ok);
  EXPECT_EQ(told_[2].text, "rendezvous round 'r' expects 1 host, and this request would make 2");
  // hostA again: its newer blob replaces the old one, answered at once.
  join(3, "r", 1, "hostA", "A2");
  EXPECT_EQ(told_[3].calls, 1);
  EXPECT_EQ(told_[3].blobs, (Blobs{"A2"}));
  EXPECT_EQ(told_[1].calls, 1);  // not told again
}

TEST_F(RendezvousRounds, RepublishedMemberReplacesTheOlderContribution) {
  join(1, "r", 3, "hostA", "A1");
  join(2, "r", 3, "hostB", "B");
  join(3, "r", 3, "hostA", "A2");  // a retry of hostA on a new connection
  EXPECT_FALSE(told(1) || told(2) || told(3));
  join(4, "r", 3, "hostC", "C");
  for (auto id : {1, 2, 3, 4}) EXPECT_EQ(told_[id].blobs, (Blobs{"B", "A2", "C"})) << id;
}

TEST_F(RendezvousRounds, MismatchedExpectedIsRefused) {
  join(1, "r", 2, "hostA", "A");
  join(2, "r", 3, "hostB", "B");
  EXPECT_EQ(told_[2].calls, 1);
  EXPECT_FALSE(told_[2].ok);
  EXPECT_EQ(told_[2].text, "rendezvous round 'r' expects 2 hosts, not 3");
  EXPECT_FALSE(told(1));
  join(3, "r", 2, "hostB", "B");  // B's refused blob was not kept
  EXPECT_EQ(told_[3].blobs, (Blobs{"A", "B"}));
}

TEST_F(RendezvousRounds, MalformedRequestsAreRefused) {
  join(1, "", 1, "hostA", "A");
  join(2, "r", 0, "hostA", "A");
  join(3, "r", 1, "\n\n", "A");
  join(4, "r", 1, "a\nb", "A");
  for (auto id : {1, 2, 3, 4}) {
    EXPECT_EQ(told_[id].calls, 1);
    EXPECT_FALSE(told_[id].ok);
  }
  EXPECT_EQ(told_[1].text, "rendezvous: the round has no name");
  EXPECT_EQ(told_[2].text, "rendezvous round 'r': expects no hosts");
  EXPECT_EQ(told_[3].text, "rendezvous round 'r': the request names no host");
  EXPECT_EQ(rv_.round_count(), 0u);
}

TEST_F(RendezvousRounds, ClosedWaiterIsForgottenButItsBlobStays) {
  join(1, "r", 2, "hostA", "A");
  rv_.drop_waiter(1);
  EXPECT_EQ(rv_.waiting("r"), 0u);
  join(2, "r", 2, "hostB", "B");
  EXPECT_FALSE(told(1));
  EXPECT_EQ(told_[2].blobs, (Blobs{"A", "B"}));
}

TEST_F(RendezvousRounds, RoundsAreIndependent) {
  join(1, "one", 2, "hostA", "A1");
  join(2, "two", 2, "hostA", "A2");
  join(3, "two", 2, "hostB", "B2");
  EXPECT_FALSE(told(1));
  EXPECT_EQ(told_[2].blobs, (Blobs{"A2", "B2"}));
  join(4, "one", 2, "hostB", "B1");
  EXPECT_EQ(told_[1].blobs, (Blobs{"A1", "B1"}));
}

TEST_F(RendezvousRounds, KeepsAtMostSixteenRoundsDroppingTheOldest) {
  join(100, "round0", 2, "hostA", "A");  // waits
  for (int i = 1; i < 16; i++) join(100 + i, "round" + std::to_string(i), 1, "h", "x");
  EXPECT_EQ(rv_.round_count(), 16u);
  EXPECT_FALSE(told(100));
  join(200, "round16", 1, "h", "x");
  EXPECT_EQ(rv_.round_count(), 16u);
  EXPECT_EQ(told_[100].calls, 1);
  EXPECT_FALSE(told_[100].ok);
  EXPECT_EQ(told_[100].text, "rendezvous round 'round0' was dropped: more than 16 rounds at once");
  // round0 starts over: its earlier blob is gone.
  join(201, "round0", 2, "hostB", "B");
  EXPECT_FALSE(told(201));
  EXPECT_EQ(rv_.waiting("round0"), 1u);
}

// The real coordinator, two hosts restarting at once.
class RendezvousTest : public CoordinatorTest {
 protected:
  struct Outcome {
    bool ok = false;
    Blobs blobs;
    std::string err;
  };
  Outcome call(std::string_view round, uint32_t expected, std::vector<std::string> members,
               std::string_view blob, int timeout_s = 20) {
    Outcome o;
    o.ok =
        rendezvous(settings_, secret_, round, expected, members, blob, timeout_s, &o.blobs, &o.err);
    return o;
  }
};

TEST_F(RendezvousTest, TwoHostsExchangeBlobs) {
  auto first = std::async(std::launch::async,
                          [&] { return call("gen5-x", 2, {"node1"}, "node1 is 10.0.0.7:4000"); });
  // node1 waits before node2 arrives: the order of the blobs is fixed.
  ASSERT_TRUE(eventually([&] {
    return read_file(log_path()).find("'gen5-x': node1 published, 1 of 2 hosts") !=
           std::string::npos;
  })) << read_file(log_path());
  EXPECT_EQ(first.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  auto second = std::async(std::launch::async,
                           [&] { return call("gen5-x", 2, {"node2"}, "node2 is 10.0.0.8:4001"); });
  Outcome a = first.get(), b = second.get();
  ASSERT_TRUE(a.ok) << a.err;
  ASSERT_TRUE(b.ok) << b.err;
  Blobs both{"node1 is 10.0.0.7:4000", "node2 is 10.0.0.8:4001"};
  EXPECT_EQ(a.blobs, both);
  EXPECT_EQ(b.blobs, both);

  // A late third call (node2 retried) is answered at once, with its own blob.
  auto start = std::chrono::steady_clock::now();
  Outcome late = call("gen5-x", 2, {"node2"}, "node2 is 10.0.0.9:4001", 5);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  ASSERT_TRUE(late.ok) << late.err;
  EXPECT_EQ(late.blobs, (Blobs{"node1 is 10.0.0.7:4000", "node2 is 10.0.0.9:4001"}));

  // Another expected count for the same round: refused, in one line.
  Outcome wrong = call("gen5-x", 3, {"node3"}, "node3", 5);
  EXPECT_FALSE(wrong.ok);
  EXPECT_EQ(wrong.err, "coordinator at 127.0.0.1:" + std::to_string(settings_.port) +
                           ": rendezvous round 'gen5-x' expects 2 hosts, not 3");
  EXPECT_NE(read_file(log_path()).find("rendezvous round 'gen5-x' complete: 2 blobs for 2 hosts"),
            std::string::npos);
}

TEST_F(RendezvousTest, TimesOutWhileTheOtherHostIsMissing) {
  auto start = std::chrono::steady_clock::now();
  Outcome o = call("gen1-y", 2, {"node1"}, "b", 1);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900));
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "waited 1 s for the other hosts of the checkpoint to restart (rendezvous round "
            "'gen1-y' at 127.0.0.1:" +
                std::to_string(settings_.port) + ")");
  // Its connection closed; its blob stays and completes the round for node2.
  Outcome b = call("gen1-y", 2, {"node2"}, "c", 5);
  ASSERT_TRUE(b.ok) << b.err;
  EXPECT_EQ(b.blobs, (Blobs{"b", "c"}));
  EXPECT_NE(read_file(log_path()).find("rendezvous round 'gen1-y' complete"), std::string::npos);
}

TEST_F(RendezvousTest, NoCoordinatorIsOneLine) {
  stop();
  Outcome o = call("gen1-z", 1, {"node1"}, "b", 5);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err.rfind("no coordinator at 127.0.0.1:" + std::to_string(settings_.port) + ": ", 0),
            0u)
      << o.err;
  EXPECT_EQ(o.err.find('\n'), std::string::npos);
}

TEST_F(RendezvousTest, BadHostNamesAreRefusedBeforeConnecting) {
  Outcome o = call("r", 1, {"a\nb"}, "b", 5);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err, "rendezvous: a host name is empty or contains a newline");
  o = call("r", 1, {}, "b", 5);
  EXPECT_EQ(o.err, "rendezvous: no host to publish");
}

}  // namespace
}  // namespace ckpt::test
