// BadPeerLog (coordinator/bad_peer_log.h): each peer dropped before it
// authenticated is logged once, by name for the first ten of a window, the
// others counted by reason in one summary line when the window ends.
#include <gtest/gtest.h>

#include <string>

#include "coordinator/bad_peer_log.h"

namespace ckpt::test {
namespace {

using Clock = BadPeerLog::Clock;

int count_lines(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) n++;
  return n;
}

TEST(BadPeerLog, NamesTheFirstTenThenCountsTheRestByReason) {
  BadPeerLog log;
  Clock::time_point t0 = Clock::now();
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 25; i++)
    log.note("10.0.0.1:" + std::to_string(4000 + i), i % 2 ? "wrong job secret" : "garbage",
             t0 + std::chrono::milliseconds(i));
  std::string during = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(count_lines(during, "before it authenticated:"), 10);
  EXPECT_EQ(count_lines(during, "10.0.0.1:4009 before"), 1);
  EXPECT_EQ(count_lines(during, "10.0.0.1:4010 "), 0);
  ASSERT_TRUE(log.deadline().has_value());
  EXPECT_EQ(*log.deadline(), t0 + BadPeerLog::kWindow);

  ::testing::internal::CaptureStderr();
  log.on_tick(t0 + BadPeerLog::kWindow - std::chrono::milliseconds(1));  // not yet
  log.on_tick(t0 + BadPeerLog::kWindow);
  std::string summary = ::testing::internal::GetCapturedStderr();
  // Peers 10..24: 8 with an even index (garbage), 7 odd (wrong secret).
  EXPECT_EQ(count_lines(summary, "\n"), 1) << summary;
  EXPECT_NE(summary.find("dropped 15 more connections before they authenticated"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("8 garbage; 7 wrong job secret"), std::string::npos) << summary;
  EXPECT_FALSE(log.deadline().has_value());

  // A new window names peers again.
  ::testing::internal::CaptureStderr();
  log.note("10.0.0.2:5000", "garbage", t0 + 2 * BadPeerLog::kWindow);
  EXPECT_EQ(count_lines(::testing::internal::GetCapturedStderr(), "10.0.0.2:5000 before"), 1);
}

TEST(BadPeerLog, FlushAtExitLogsWhatIsCounted) {
  BadPeerLog log;
  Clock::time_point t0 = Clock::now();
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 12; i++) log.note("[::1]:" + std::to_string(i), "connection closed", t0);
  log.flush();
  log.flush();  // nothing more
  std::string text = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(count_lines(text, "dropped 2 more connections"), 1) << text;
  EXPECT_EQ(count_lines(text, "2 connection closed"), 1) << text;
}

}  // namespace
}  // namespace ckpt::test
