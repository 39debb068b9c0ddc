// The site and user configuration files: good lines become entries with
// their environment variable, $NAME expands, every bad line is one
// "FILE:LINE: why" error, and applying the files never overrides the
// environment while the user's file wins over the site's.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/config_file.h"

namespace ckpt {
namespace {

// Sets (or unsets, for nullptr) an environment variable for one test.
class EnvVar {
 public:
  EnvVar(const char* name, const char* value) : name_(name) {
    if (const char* v = std::getenv(name)) saved_ = v, had_ = true;
    value ? ::setenv(name, value, 1) : ::unsetenv(name);
  }
  ~EnvVar() { had_ ? ::setenv(name_, saved_.c_str(), 1) : ::unsetenv(name_); }

 private:
  const char* name_;
  std::string saved_;
  bool had_ = false;
};

TEST(ConfigFile, GoodLinesBecomeEntries) {
  EnvVar user("CKPT_TEST_USER", "alice");
  std::vector<std::string> errors;
  auto entries = parse_config(
      "# site defaults\n"
      "\n"
      "dir = /scratch/$CKPT_TEST_USER/ckpt-${CKPT_TEST_UNSET_VAR}x\n"
      "  keep=3   # two is too few\n"
      "compress = -1\n"
      "interval = 0\n"
      "remote_shell = \"ssh -x\"\n"
      "timeout = 60\r\n",
      "/etc/ckpt/ckpt.conf", &errors);
  EXPECT_TRUE(errors.empty()) << errors[0];
  ASSERT_EQ(entries.size(), 6u);
  EXPECT_EQ(entries[0].env, "CKPT_DIR");
  EXPECT_EQ(entries[0].value, "/scratch/alice/ckpt-x");
  EXPECT_EQ(entries[0].line, 3);
  EXPECT_EQ(entries[1].env, "CKPT_KEEP");
  EXPECT_EQ(entries[1].value, "3");
  EXPECT_EQ(entries[2].env, "CKPT_COMPRESS_LEVEL");
  EXPECT_EQ(entries[2].value, "-1");
  EXPECT_EQ(entries[3].env, "CKPT_INTERVAL");
  EXPECT_EQ(entries[4].env, "CKPT_RSH");
  EXPECT_EQ(entries[4].value, "ssh -x");
  EXPECT_EQ(entries[5].env, "CKPT_TIMEOUT");
  EXPECT_EQ(entries[5].value, "60");
}

TEST(ConfigFile, EachBadLineIsOneErrorNamingFileAndLine) {
  std::vector<std::string> errors;
  auto entries = parse_config(
      "keep = 2\n"
      "colour = blue\n"
      "just some words\n"
      "keep = 0\n"
      "compress = 25\n"
      "interval = soon\n"
      "dir = ${UNTERMINATED\n"
      "dir =\n"
      "dir = /ok/$\n",
      "/home/u/.config/ckpt/ckpt.conf", &errors);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].value, "2");
  const std::string f = "/home/u/.config/ckpt/ckpt.conf:";
  ASSERT_EQ(errors.size(), 8u);
  EXPECT_EQ(errors[0], f + "2: unknown key 'colour' (known: dir, compress, interval, keep, "
                           "remote_shell, timeout)");
  EXPECT_EQ(errors[1], f + "3: expected 'key = value', got 'just some words'");
  EXPECT_EQ(errors[2], f + "4: keep: '0' is not a positive number");
  EXPECT_EQ(errors[3], f + "5: compress: '25' is not a zstd level (-7 to 19)");
  EXPECT_EQ(errors[4], f + "6: interval: 'soon' is not a number of seconds");
  EXPECT_EQ(errors[5], f + "7: unterminated ${ in value");
  EXPECT_EQ(errors[6], f + "8: dir: empty path");
  EXPECT_EQ(errors[7], f + "9: '$' not followed by a variable name (write ${NAME})");
  for (const auto& e : errors) EXPECT_EQ(e.find('\n'), std::string::npos);
}

class ConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ckpt_test_config_XXXXXX";
    root_ = ::mkdtemp(tmpl);
    std::filesystem::create_directories(root_ + "/xdg/ckpt");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
  std::string site() const { return root_ + "/site.conf"; }
  std::string user() const { return root_ + "/xdg/ckpt/ckpt.conf"; }

  std::string root_;
};

TEST_F(ConfigFiles, EnvironmentBeatsUserBeatsSite) {
  EnvVar xdg("XDG_CONFIG_HOME", (root_ + "/xdg").c_str());
  EnvVar site_path("CKPT_SITE_CONFIG", site().c_str());
  EnvVar keep("CKPT_KEEP", nullptr);
  EnvVar interval("CKPT_INTERVAL", "7");
  EnvVar dir("CKPT_DIR", nullptr);
  EnvVar timeout("CKPT_TIMEOUT", nullptr);
  write(site(), "keep = 5\ninterval = 100\ndir = /site/dir\ntimeout = 30\n");
  write(user(), "keep = 4\nkeep = 3\ndir = /user/dir\n");
  EXPECT_EQ(config_paths(), (std::vector<std::string>{user(), site()}));
  std::vector<std::string> errors;
  auto set = apply_config_files(&errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_STREQ(std::getenv("CKPT_KEEP"), "3");  // user's last line
  EXPECT_STREQ(std::getenv("CKPT_DIR"), "/user/dir");
  EXPECT_STREQ(std::getenv("CKPT_INTERVAL"), "7");  // the environment's
  EXPECT_STREQ(std::getenv("CKPT_TIMEOUT"), "30");  // only the site names it
  EXPECT_EQ(set, (std::vector<std::string>{"CKPT_DIR", "CKPT_KEEP", "CKPT_TIMEOUT"}));
}

TEST_F(ConfigFiles, AnyBadLineSetsNothing) {
  EnvVar xdg("XDG_CONFIG_HOME", (root_ + "/xdg").c_str());
  EnvVar site_path("CKPT_SITE_CONFIG", site().c_str());
  EnvVar keep("CKPT_KEEP", nullptr);
  write(site(), "keep = 5\nkep = 4\n");
  std::vector<std::string> errors;
  EXPECT_TRUE(apply_config_files(&errors).empty());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind(site() + ":2: unknown key 'kep'", 0), 0u) << errors[0];
  EXPECT_EQ(std::getenv("CKPT_KEEP"), nullptr);
}

TEST_F(ConfigFiles, MissingFilesAreFine) {
  EnvVar xdg("XDG_CONFIG_HOME", (root_ + "/none").c_str());
  EnvVar site_path("CKPT_SITE_CONFIG", (root_ + "/none.conf").c_str());
  std::vector<std::string> errors;
  EXPECT_TRUE(apply_config_files(&errors).empty());
  EXPECT_TRUE(errors.empty());
}

}  // namespace
}  // namespace ckpt
