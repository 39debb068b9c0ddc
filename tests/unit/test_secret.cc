// The job secret: proofs depend on key, nonce and role; the secret file is
// created 0600 and reads back the same; CKPT_SECRET wins over the file.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "ckpt/protocol.h"
#include "common/job_secret.h"

namespace ckpt {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ckpt_test_secret_XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Unsets CKPT_SECRET for a test and restores it afterwards.
class SecretEnv {
 public:
  SecretEnv() {
    if (const char* v = std::getenv("CKPT_SECRET")) saved_ = v, had_ = true;
    ::unsetenv("CKPT_SECRET");
  }
  ~SecretEnv() {
    if (had_)
      ::setenv("CKPT_SECRET", saved_.c_str(), 1);
    else
      ::unsetenv("CKPT_SECRET");
  }

 private:
  std::string saved_;
  bool had_ = false;
};

Secret make_secret(uint8_t seed) {
  Secret s;
  for (int i = 0; i < 16; i++) s.key[i] = static_cast<uint8_t>(seed + i * 13);
  return s;
}

TEST(Prove, DependsOnKeyNonceAndRole) {
  Secret a = make_secret(1), b = make_secret(2);
  uint8_t nonce[proto::kNonceSize] = {}, nonce2[proto::kNonceSize] = {};
  nonce2[15] = 1;
  uint64_t base = proto::prove(a.key, nonce, proto::Role::kProcess);
  EXPECT_EQ(base, proto::prove(a.key, nonce, proto::Role::kProcess));
  EXPECT_NE(base, proto::prove(b.key, nonce, proto::Role::kProcess));
  EXPECT_NE(base, proto::prove(a.key, nonce2, proto::Role::kProcess));
  EXPECT_NE(base, proto::prove(a.key, nonce, proto::Role::kCommand));
}

TEST(SecretHex, RoundTrip) {
  Secret s = make_secret(7);
  std::string hex = to_hex(s);
  EXPECT_EQ(hex.size(), 32u);
  auto back = secret_from_hex(hex);
  ASSERT_TRUE(back);
  EXPECT_EQ(0, std::memcmp(back->key, s.key, 16));
  EXPECT_TRUE(secret_from_hex(" " + hex + "\n"));
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_TRUE(secret_from_hex(upper));
  EXPECT_FALSE(secret_from_hex(hex.substr(1)));
  EXPECT_FALSE(secret_from_hex(hex + "0"));
  EXPECT_FALSE(secret_from_hex("zz" + hex.substr(2)));
  EXPECT_FALSE(secret_from_hex(""));
}

TEST(SecretFile, CreatedWithMode0600AndReloaded) {
  SecretEnv env;
  TempDir dir;
  std::string error;
  EXPECT_FALSE(load_secret(dir.path(), &error));
  EXPECT_EQ(error, "");  // absent is not an error

  auto created = load_or_create_secret(dir.path(), &error);
  ASSERT_TRUE(created) << error;
  struct stat st;
  ASSERT_EQ(0, ::stat((dir.path() + "/.ckpt_secret").c_str(), &st));
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  auto loaded = load_secret(dir.path());
  ASSERT_TRUE(loaded);
  EXPECT_EQ(to_hex(*loaded), to_hex(*created));
  // A second create keeps the existing secret.
  EXPECT_EQ(to_hex(load_or_create_secret(dir.path())), to_hex(*created));
  // No temporary files left behind.
  size_t entries = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path()))
    entries += 1 + 0 * e.is_regular_file();
  EXPECT_EQ(entries, 1u);
}

TEST(SecretFile, CreatesMissingDir) {
  SecretEnv env;
  TempDir dir;
  std::string sub = dir.path() + "/a/b";
  std::string error;
  ASSERT_TRUE(load_or_create_secret(sub, &error)) << error;
  EXPECT_TRUE(std::filesystem::exists(sub + "/.ckpt_secret"));
}

TEST(SecretFile, EnvWins) {
  SecretEnv env;
  TempDir dir;
  Secret file_secret = make_secret(3), env_secret = make_secret(9);
  std::ofstream(dir.path() + "/.ckpt_secret") << to_hex(file_secret) << "\n";
  ASSERT_EQ(to_hex(*load_secret(dir.path())), to_hex(file_secret));

  ::setenv("CKPT_SECRET", to_hex(env_secret).c_str(), 1);
  auto s = load_secret(dir.path());
  ASSERT_TRUE(s);
  EXPECT_EQ(to_hex(*s), to_hex(env_secret));

  ::setenv("CKPT_SECRET", "not-hex", 1);
  std::string error;
  EXPECT_FALSE(load_secret(dir.path(), &error));
  EXPECT_NE(error.find("CKPT_SECRET"), std::string::npos);
}

TEST(SecretFile, GarbageFileIsAnError) {
  SecretEnv env;
  TempDir dir;
  std::ofstream(dir.path() + "/.ckpt_secret") << "hello\n";
  std::string error;
  EXPECT_FALSE(load_secret(dir.path(), &error));
  EXPECT_NE(error.find(".ckpt_secret"), std::string::npos);
  EXPECT_FALSE(load_or_create_secret(dir.path(), &error));
}

}  // namespace
}  // namespace ckpt
