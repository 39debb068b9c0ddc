// The checkpoint history read from a checkpoint dir: committed generations
// only (not one being written past ckpt_latest), sizes from the image files
// on disk, durations where the MANIFEST records them (older ones do not),
// and its table and JSON; the summary line of a checkpoint reply.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/checkpoint_history.h"
#include "launcher/common/checkpoint_report.h"
#include "launcher/common/history_table.h"

namespace ckpt {
namespace {

namespace fs = std::filesystem;

class CheckpointHistory : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ckpt_test_history_XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A generation dir with `images` (name -> size) and the MANIFEST metadata.
  void generation(int gen, const std::vector<std::pair<std::string, size_t>>& images,
                  const std::string& metadata, bool manifest = true) {
    std::string d = dir_ + "/.ckpt_gen_" + std::to_string(gen);
    fs::create_directory(d);
    std::string text = "generation " + std::to_string(gen) + "\n";
    for (const auto& [name, size] : images) {
      std::ofstream(d + "/" + name) << std::string(size, 'x');
      text += name + "\n";
    }
    if (manifest) std::ofstream(d + "/MANIFEST") << text << "\n" << metadata;
  }

  std::string dir_;
};

TEST_F(CheckpointHistory, CommittedGenerationsFromDisk) {
  generation(4, {{"ckpt_a_1.img", 1000}},
             "time: 2026-12-06T10:00:00Z\nscheduler: none\n"
             "restart_count: 0\nhosts: h\n");  // before durations
  generation(5, {{"ckpt_a_1.img", 3000}, {"ckpt_b_2.img", 2048}},
             "time: 2026-12-06T11:00:00Z\nscheduler: none\nrestart_count: 1\nhosts: h\n"
             "duration_ms: 1500\nbytes: 5048\n");
  generation(6, {{"ckpt_a_1.img", 10}}, "", false);  // being written: not committed
  fs::create_directory_symlink(".ckpt_gen_5", dir_ + "/ckpt_latest");

  auto records = checkpoint_history(dir_);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].generation, 4u);
  EXPECT_EQ(records[0].bytes, 1000u);
  EXPECT_EQ(records[0].processes, 1u);
  EXPECT_FALSE(records[0].duration_ms);
  EXPECT_FALSE(records[0].latest);
  EXPECT_EQ(records[1].generation, 5u);
  EXPECT_EQ(records[1].bytes, 5048u);
  EXPECT_EQ(records[1].processes, 2u);
  EXPECT_EQ(records[1].duration_ms, 1500u);
  EXPECT_EQ(records[1].restart_count, 1u);
  EXPECT_EQ(records[1].time, "2026-12-06T11:00:00Z");
  EXPECT_TRUE(records[1].latest);

  EXPECT_EQ(history_text(records, dir_),
            "GEN  TIME                  DURATION     SIZE  PROCESSES  RESTARTS\n"
            "  4  2026-12-06T10:00:00Z         -   1000 B          1         0\n"
            "  5  2026-12-06T11:00:00Z    1.50 s  4.9 KiB          2         1  latest\n");
  EXPECT_EQ(history_json(records, "/d"),
            "{\"dir\": \"/d\", \"checkpoints\": [{\"generation\": 4, \"time\": "
            "\"2026-12-06T10:00:00Z\", \"duration_ms\": null, \"bytes\": 1000, \"processes\": 1, "
            "\"restart_count\": 0, \"latest\": false}, {\"generation\": 5, \"time\": "
            "\"2026-12-06T11:00:00Z\", \"duration_ms\": 1500, \"bytes\": 5048, \"processes\": 2, "
            "\"restart_count\": 1, \"latest\": true}]}\n");
}

TEST_F(CheckpointHistory, NothingCommitted) {
  generation(1, {{"ckpt_a_1.img", 10}}, "", false);
  EXPECT_TRUE(checkpoint_history(dir_).empty());
  EXPECT_EQ(history_text({}, dir_), "no committed checkpoint in " + dir_ + "\n");
}

TEST(CheckpointReport, SummaryAndJson) {
  proto::CmdReply r{
      1, "checkpoint 3 committed: 2 images, 3145728 bytes, 1500 ms; killed 2", 3, 2, 3145728, 1500};
  EXPECT_EQ(checkpoint_summary(r),
            "checkpoint 3 committed: 2 processes, 3.0 MiB in 1.500 s (2.0 MiB/s); killed 2");
  EXPECT_EQ(checkpoint_json(r, "/d"),
            "{\"ok\": true, \"generation\": 3, \"processes\": 2, \"bytes\": 3145728, "
            "\"duration_ms\": 1500, \"dir\": \"/d\", \"message\": \"checkpoint 3 committed: 2 "
            "images, 3145728 bytes, 1500 ms; killed 2\"}");
  proto::CmdReply failed{0, "checkpoint 4 failed: process 7 (a@h): disk \"full\""};
  EXPECT_EQ(checkpoint_summary(failed), failed.text);
  EXPECT_EQ(
      checkpoint_json(failed, "/d"),
      "{\"ok\": false, \"error\": \"checkpoint 4 failed: process 7 (a@h): disk \\\"full\\\"\"}");
  proto::CmdProgress p{3, proto::ProgressPhase::kWriting, 4, 4, 1, 1048576, 500};
  EXPECT_EQ(progress_line(p, 700),
            "checkpoint 3: stopped 4/4, written 1/4, 1.0 MiB, 2.0 MiB/s, 0.7 s");
}

}  // namespace
}  // namespace ckpt
