// Encoding of a ckpt_rsh launch request (see launch_request.h): NUL-separated
// KEY=VALUE entries ("env:NAME" for variables), written as hex.
#include "launch_request.h"

#include "common/hex.h"

namespace ckpt::rsh {
namespace {

void add(std::string* out, const std::string& key, const std::string& value) {
  *out += key + "=" + value;
  out->push_back('\0');
}

bool take(LaunchRequest* r, const std::string& key, const std::string& value) {
  if (key.starts_with("env:")) {
    r->env.emplace_back(key.substr(4), value);
  } else if (key == "connect_host") {
    r->connect_host = value;
  } else if (key == "connect_port") {
    r->connect_port = value;
  } else if (key == "cookie") {
    r->cookie = value;
  } else if (key == "host") {
    r->host = value;
  } else if (key == "command") {
    r->command = value;
  } else {
    return false;
  }
  return true;
}

}  // namespace

std::string encode(const LaunchRequest& r) {
  std::string raw;
  for (const auto& [name, value] : r.env) add(&raw, "env:" + name, value);
  add(&raw, "connect_host", r.connect_host);
  add(&raw, "connect_port", r.connect_port);
  add(&raw, "cookie", r.cookie);
  add(&raw, "host", r.host);
  add(&raw, "command", r.command);
  static const char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : raw) {
    hex += digits[c >> 4];
    hex += digits[c & 15];
  }
  return hex;
}

std::optional<LaunchRequest> decode(const std::string& hex) {
  if (hex.size() % 2) return std::nullopt;
  std::string raw;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    raw.push_back(static_cast<char>(hi << 4 | lo));
  }
  LaunchRequest r;
  size_t at = 0;
  while (at < raw.size()) {
    size_t end = raw.find('\0', at);
    if (end == std::string::npos) return std::nullopt;
    std::string entry = raw.substr(at, end - at);
    size_t eq = entry.find('=');
    if (eq == std::string::npos || !take(&r, entry.substr(0, eq), entry.substr(eq + 1)))
      return std::nullopt;
    at = end + 1;
  }
  if (r.connect_host.empty() || r.connect_port.empty() || r.cookie.empty()) return std::nullopt;
  return r;
}

}  // namespace ckpt::rsh
