// Loading, creating and hex-coding the job secret (see job_secret.h).
#include "job_secret.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "fd_io.h"
#include "hex.h"
#include "scoped_fd.h"

namespace ckpt {
namespace {

std::string secret_path(const std::string& dir) { return dir + "/" + kSecretFileName; }

// Writes a new secret file: tmp file, fsync, then link() so an existing file
// is never replaced. Returns 0, or an errno (EEXIST: someone else won).
int publish_secret(const std::string& dir, const Secret& secret) {
  std::string path = secret_path(dir);
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  ScopedFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) return errno;
  std::string text = to_hex(secret) + "\n";
  int err = 0;
  if (::fchmod(fd.get(), 0600) != 0 || !write_all(fd.get(), text.data(), text.size()) ||
      ::fsync(fd.get()) != 0) {
    err = errno ? errno : EIO;
  }
  fd.reset();
  if (err == 0 && ::link(tmp.c_str(), path.c_str()) != 0) err = errno;
  ::unlink(tmp.c_str());
  if (err == 0) {
    ScopedFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd) ::fsync(dfd.get());
  }
  return err;
}

}  // namespace

std::string to_hex(const Secret& secret) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : secret.key) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

std::optional<Secret> secret_from_hex(std::string_view text) {
  while (!text.empty() && std::strchr(" \t\r\n", text.front())) text.remove_prefix(1);
  while (!text.empty() && std::strchr(" \t\r\n", text.back())) text.remove_suffix(1);
  if (text.size() != 2 * sizeof(Secret::key)) return std::nullopt;
  Secret s;
  if (!decode_hex(text, s.key, sizeof(s.key))) return std::nullopt;
  return s;
}

std::optional<Secret> load_secret(const std::string& dir, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Secret> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  if (const char* env = std::getenv("CKPT_SECRET"); env && *env) {
    if (auto s = secret_from_hex(env)) return s;
    return fail("CKPT_SECRET is not 32 hex characters");
  }
  std::string path = secret_path(dir);
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return fail("");
    return fail("cannot read " + path + ": " + std::strerror(errno));
  }
  char buf[128];
  ssize_t n = ::read(fd.get(), buf, sizeof(buf));
  if (n < 0) return fail("cannot read " + path + ": " + std::strerror(errno));
  if (auto s = secret_from_hex(std::string_view(buf, static_cast<size_t>(n)))) return s;
  return fail(path + " does not hold a secret (32 hex characters)");
}

std::optional<Secret> load_or_create_secret(const std::string& dir, std::string* error) {
  std::string why;
  if (auto s = load_secret(dir, &why)) return s;
  if (!why.empty()) {
    *error = why;
    return std::nullopt;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    *error = "cannot create checkpoint dir " + dir + ": " + ec.message();
    return std::nullopt;
  }
  Secret fresh;
  if (::getrandom(fresh.key, sizeof(fresh.key), 0) != static_cast<ssize_t>(sizeof(fresh.key))) {
    *error = std::string("getrandom failed: ") + std::strerror(errno);
    return std::nullopt;
  }
  int err = publish_secret(dir, fresh);
  if (err == 0) return fresh;
  if (err == EEXIST) return load_secret(dir, error);  // a concurrent creator won
  *error = "cannot write " + secret_path(dir) + ": " + std::strerror(err);
  return std::nullopt;
}

Secret load_or_create_secret(const std::string& dir) {
  std::string error;
  auto s = load_or_create_secret(dir, &error);
  if (!s) throw std::runtime_error(error);
  return *s;
}

}  // namespace ckpt
